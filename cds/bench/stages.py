"""Where the fixed cost of a call goes, stage by stage: the real app, driven in process through ASGI.

A sampling profiler cannot see a call of one or two milliseconds well, and cProfile's own cost per
function call swamps the small ones. So the app is built as `cds serve` builds it (`create_app`, the
lifespan, the JSON log configuration, auth off as in the benchmark) and called directly with an ASGI
scope, one call at a time, while a clock wrapped around each stage's function adds up its time. Stages
nest (the call tree below); each one's "self" time excludes the stages inside it, so the self times add
up to the whole call. The wrappers cost a microsecond or two each, which is why the uninstrumented time
of the same calls is given beside them. What a socket and uvicorn add is the HTTP figure minus this one.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import logging
import logging.config
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import prometheus_client.metrics
from pydantic import BaseModel, ConfigDict
from starlette import responses, routing
from starlette.applications import Starlette
from starlette.middleware import cors, errors, exceptions
from starlette.types import Message

from cds import evaluation
from cds.bench.workload import SERVICE_PATH
from cds.engine import durable_host, runner
from cds.evaluation import Evaluation, Evaluator
from cds.service import access, audit, direct, endpoints, middleware, prefetch, records
from cds.service import background as service_background
from cds.service.app import create_app
from cds.service.logging import logging_config
from cds.service.settings import load_settings


@dataclass(frozen=True)
class Stage:
    label: str
    owner: object
    """The module or class whose attribute is the stage's function."""
    name: str


STAGES = (
    Stage("direct route: HookCalls (is it a hook call)", direct.HookCalls, "__call__"),
    Stage("starlette: ServerErrorMiddleware", errors.ServerErrorMiddleware, "__call__"),
    Stage("request: Observation (request id, log fields)", middleware.Observation, "__init__"),
    Stage("direct route: answer_directly (Request, auth, errors, send)", direct, "answer_directly"),
    Stage("endpoint: answer_call", direct, "answer_call"),
    Stage(
        "middleware: RequestContext (request id, metrics, access log)", middleware.RequestContext, "__call__"
    ),
    Stage("middleware: CORS", cors.CORSMiddleware, "__call__"),
    Stage("middleware: UnexpectedErrors", middleware.UnexpectedErrors, "__call__"),
    Stage("middleware: RequireCaller (auth; off in the benchmark)", access.RequireCaller, "__call__"),
    Stage("starlette: ExceptionMiddleware", exceptions.ExceptionMiddleware, "__call__"),
    Stage("starlette: router", routing.Router, "__call__"),
    Stage("endpoint call_service (Request, records, annotate)", routing.Route, "handle"),
    Stage("body: read_json (stream, size limit)", endpoints, "read_json"),
    Stage("body: decode (fast reader)", endpoints, "parse_hook_call"),
    Stage("body: decode (parse_json_bytes)", endpoints, "parse_json_bytes"),
    Stage("hook envelope: parse_hook_request", endpoints, "parse_hook_request"),
    Stage("prefetch: resolve", prefetch.PrefetchResolver, "resolve"),
    Stage("prefetch: read_prefetch", prefetch, "read_prefetch"),
    Stage("evaluate (patient matcher, response model)", Evaluator, "evaluate"),
    Stage("facts: extract_facts", evaluation, "extract_facts"),
    Stage("engine: envelope (check, code facts)", runner, "prepare"),
    Stage("engine: durable session (sentinel, assert, delete)", durable_host.DurableRuleset, "run"),
    Stage("findings: decide", evaluation, "decide"),
    Stage("cards: build_cards", evaluation, "build_cards"),
    Stage("serialise: response_json", Evaluation, "response_json"),
    Stage("response: Response.__call__ (send)", responses.Response, "__call__"),
    Stage("records: CallRecords.keep (log fields, audit, card metrics)", records.CallRecords, "keep"),
    Stage("request: Observation.end (metrics, access log)", middleware.Observation, "end"),
    Stage("audit hand-off: BoundedWorker.submit (queue)", service_background.BoundedWorker, "submit"),
    Stage("audit: remember_calls (batched store writes, writer thread)", audit, "remember_calls"),
    Stage("metrics: labels", prometheus_client.metrics.MetricWrapperBase, "labels"),
    Stage("metrics: Counter.inc", prometheus_client.metrics.Counter, "inc"),
    Stage("metrics: Histogram.observe", prometheus_client.metrics.Histogram, "observe"),
    Stage("logging: Logger.handle (format, write)", logging.Logger, "handle"),
)
TOTAL = "whole call"


class StageFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    depth: int
    """Nesting in the call tree, 0 for the outermost stage."""
    calls_per_request: float
    self_us: float
    """Median per request of the stage's own time, stages inside it excluded, in microseconds."""
    inclusive_us: float


class StageProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    resources: int
    requests: int
    plain_us: float
    """Median of the whole call without the stage clocks."""
    instrumented_us: float
    stages: list[StageFigure]


@dataclass
class _Frame:
    label: str
    started: float
    children: float = 0.0


@dataclass
class _Clock:
    """Stage times in CPU time of the thread that runs them, so other work on a shared machine does not
    count; each thread nests its own stages (the audit writes run on a worker thread)."""

    stacks: dict[int, list[_Frame]] = field(default_factory=dict)
    totals: dict[str, list[float]] = field(default_factory=dict)
    """label -> [self, inclusive, calls] of the request being timed."""
    depth: dict[str, int] = field(default_factory=dict)

    def enter(self, label: str) -> None:
        stack = self.stacks.setdefault(threading.get_ident(), [])
        self.depth.setdefault(label, len(stack) + (0 if stack else self._deepest()))
        stack.append(_Frame(label, time.thread_time()))

    def _deepest(self) -> int:
        return max((len(stack) for stack in self.stacks.values()), default=0)

    def leave(self) -> None:
        stack = self.stacks[threading.get_ident()]
        frame = stack.pop()
        inclusive = time.thread_time() - frame.started
        if stack:
            stack[-1].children += inclusive
        entry = self.totals.setdefault(frame.label, [0.0, 0.0, 0.0])
        entry[0] += inclusive - frame.children
        entry[1] += inclusive
        entry[2] += 1


def _timed(clock: _Clock, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            clock.enter(label)
            try:
                return await function(*args, **kwargs)
            finally:
                clock.leave()

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        clock.enter(label)
        try:
            return function(*args, **kwargs)
        finally:
            clock.leave()

    return timed


@contextmanager
def _clocks_on(clock: _Clock, stages: Sequence[Stage]) -> Iterator[None]:
    originals = [(stage, stage.owner.__dict__[stage.name]) for stage in stages]
    try:
        for stage, original in originals:
            setattr(stage.owner, stage.name, _timed(clock, stage.label, original))
        yield
    finally:
        for stage, original in originals:
            setattr(stage.owner, stage.name, original)


def post_scope(path: str, body: bytes) -> dict[str, Any]:
    """The ASGI scope uvicorn gives a JSON POST of `body` to `path` on the loopback."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8080"),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def _call(app: Starlette, body: bytes) -> int:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> Message:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(post_scope(SERVICE_PATH, body), receive, send)
    return status


async def _profile(
    app: Starlette, bodies: Sequence[bytes], requests: int
) -> tuple[list[float], list[float], _Clock, list[dict[str, list[float]]]]:
    async with app.router.lifespan_context(app):
        for body in bodies:
            if await _call(app, body) != 200:
                raise RuntimeError("the service did not answer 200 to a benchmark body")
        plain: list[float] = []
        for index in range(requests):
            started = time.thread_time()
            await _call(app, bodies[index % len(bodies)])
            plain.append(time.thread_time() - started)
        clock = _Clock()
        per_request: list[dict[str, list[float]]] = []
        instrumented: list[float] = []
        with _clocks_on(clock, STAGES):
            for index in range(requests):
                clock.totals = {}
                started = time.thread_time()
                await _call(app, bodies[index % len(bodies)])
                instrumented.append(time.thread_time() - started)
                per_request.append(clock.totals)
    return plain, instrumented, clock, per_request


@contextmanager
def _service_logging_to_devnull() -> Iterator[None]:
    """The service's logging configuration, so the access log line is timed as served, written to
    /dev/null; the loggers it configures are put back as they were after. A second `dictConfig` would
    not undo the first: it leaves a configured logger's handlers in place, and those would then write
    to the closed sink (every later line of the process a "Logging error")."""
    config = logging_config("info")
    loggers = [logging.getLogger(name) for name in config["loggers"]]
    saved = [(logger.handlers[:], logger.level, logger.propagate, logger.disabled) for logger in loggers]
    with open(os.devnull, "w") as sink:
        config["handlers"]["stderr"]["stream"] = sink
        logging.config.dictConfig(config)
        try:
            yield
        finally:
            for logger, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
                for handler in logger.handlers:
                    if handler not in handlers:
                        handler.close()
                logger.handlers[:] = handlers
                logger.setLevel(level)
                logger.propagate = propagate
                logger.disabled = disabled


def profile_stages(bodies: Sequence[bytes], resources: int, *, requests: int) -> StageProfile:
    """The per-stage times of `requests` calls (the bodies in turn) against a fresh app, auth off."""
    with tempfile.TemporaryDirectory(prefix="cds-stages-") as data_dir, _service_logging_to_devnull():
        settings = load_settings(host="127.0.0.1", port=8080, auth="off", data_dir=Path(data_dir))
        app = create_app(settings)
        try:
            plain, instrumented, clock, per_request = asyncio.run(_profile(app, bodies, requests))
        finally:
            gc.unfreeze()
    figures = []
    order = {stage.label: index for index, stage in enumerate(STAGES)}
    for label in sorted(clock.depth, key=order.__getitem__):
        rows = [totals.get(label, [0.0, 0.0, 0.0]) for totals in per_request]
        figures.append(
            StageFigure(
                label=label,
                depth=clock.depth[label],
                calls_per_request=round(statistics.mean(row[2] for row in rows), 2),
                self_us=round(statistics.median(row[0] for row in rows) * 1e6, 1),
                inclusive_us=round(statistics.median(row[1] for row in rows) * 1e6, 1),
            )
        )
    return StageProfile(
        resources=resources,
        requests=requests,
        plain_us=round(statistics.median(plain) * 1e6, 1),
        instrumented_us=round(statistics.median(instrumented) * 1e6, 1),
        stages=figures,
    )


def render_stages(profile: StageProfile) -> str:
    rows = [
        f"Stages of a call in process, {profile.resources} resources, {profile.requests} calls: whole call "
        f"{profile.plain_us / 1000:.3f} ms (with the stage clocks {profile.instrumented_us / 1000:.3f} ms)",
        "",
        "| stage | calls | self µs (p50) | inclusive µs (p50) |",
        "|---|--:|--:|--:|",
    ]
    for stage in profile.stages:
        indent = "&nbsp;&nbsp;" * stage.depth
        rows.append(
            f"| {indent}{stage.label} | {stage.calls_per_request:g} | {stage.self_us:.1f} "
            f"| {stage.inclusive_us:.1f} |"
        )
    return "\n".join(rows)
