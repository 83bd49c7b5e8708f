"""Evaluation in process, body bytes in and response bytes out, beside the floor of parsing the same body.

The service has no entry point that takes a body without HTTP, so `BodyHandler` makes the same calls its
endpoint does for a complete prefetch: the service's JSON parser, its envelope check, `read_prefetch` of
the keys the service asks for, `Evaluator.evaluate` and `response_json`. The three measures alternate on
each body, so noise from other processes on the machine lands on all of them alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import orjson
from pydantic import BaseModel, ConfigDict

from cds.bench.stats import ms, percentile
from cds.bench.workload import BenchRequest
from cds.evaluation import Evaluator
from cds.fhir import parse_hook_call, read_prefetch
from cds.service.hooks import parse_hook_request
from cds.service.templates import TEMPLATES

SERVICE_ID = "spasm-patient-view"
HOOK = "patient-view"


class BodyHandler:
    """A patient-view call body in, the CDS Hooks response body out, as the service computes it."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.keys = tuple(TEMPLATES)

    def __call__(self, body: bytes) -> bytes:
        document = parse_hook_call(body)
        request, context = parse_hook_request(document, SERVICE_ID, HOOK)
        given = request.prefetch or {}
        read = read_prefetch({key: given[key] for key in self.keys if key in given})
        return self.evaluator.evaluate(read, patient_id=context.patientId).response_json()


class Timing(BaseModel):
    model_config = ConfigDict(frozen=True)

    runs: int
    p50_ms: float
    p90_ms: float


class InProcessFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    resources: int
    body_kb: float
    """Mean size of the bodies, in KiB."""
    bodies: int
    bodies_with_cards: int
    evaluate: Timing
    json_loads: Timing
    orjson_loads: Timing
    ratio_to_json: float
    """evaluate p50 / json.loads p50."""
    ratio_to_orjson: float


def timing(samples: Sequence[float]) -> Timing:
    ordered = sorted(samples)
    return Timing(runs=len(ordered), p50_ms=ms(percentile(ordered, 50)), p90_ms=ms(percentile(ordered, 90)))


def _elapsed(function: Callable[[bytes], object], body: bytes) -> float:
    started = time.perf_counter()
    function(body)
    return time.perf_counter() - started


WARM_UP_ROUNDS = 5


def warm_up(
    handler: Callable[[bytes], object], sizes: Sequence[Sequence[BenchRequest]], rounds: int = WARM_UP_ROUNDS
) -> None:
    """Every body of every size, `rounds` times, before any is timed: the first size measured would
    otherwise pay for filling the recognition memo and the caches of every later one (measured: the
    10-resource figure taken first was about twice the same figure taken after the other sizes)."""
    for _ in range(rounds):
        for requests in sizes:
            for request in requests:
                handler(request.body)


def measure_size(
    handler: BodyHandler, requests: Sequence[BenchRequest], *, budget_s: float, min_rounds: int = 3
) -> InProcessFigure:
    """Rounds over every body until `budget_s` has passed (at least `min_rounds`); warm the handler
    with `warm_up` first."""
    bodies = [r.body for r in requests]
    with_cards = sum(1 for body in bodies if orjson.loads(handler(body))["cards"])
    samples: dict[str, list[float]] = {"evaluate": [], "json": [], "orjson": []}
    deadline = time.perf_counter() + budget_s
    rounds = 0
    while rounds < min_rounds or time.perf_counter() < deadline:
        for body in bodies:
            samples["evaluate"].append(_elapsed(handler, body))
            samples["json"].append(_elapsed(json.loads, body))
            samples["orjson"].append(_elapsed(orjson.loads, body))
        rounds += 1
    evaluate, loads, fast = timing(samples["evaluate"]), timing(samples["json"]), timing(samples["orjson"])
    return InProcessFigure(
        resources=requests[0].resources,
        body_kb=round(sum(len(b) for b in bodies) / len(bodies) / 1024, 1),
        bodies=len(bodies),
        bodies_with_cards=with_cards,
        evaluate=evaluate,
        json_loads=loads,
        orjson_loads=fast,
        ratio_to_json=round(evaluate.p50_ms / loads.p50_ms, 2),
        ratio_to_orjson=round(evaluate.p50_ms / fast.p50_ms, 2),
    )
