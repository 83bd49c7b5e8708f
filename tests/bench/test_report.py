"""Targets are read from the figures: met, missed, or not measured."""

from __future__ import annotations

from cds.bench.inprocess import InProcessFigure, Timing
from cds.bench.load import LoadResult
from cds.bench.report import (
    IN_PROCESS,
    START,
    THROUGHPUT,
    WORKER_LATENCY,
    WORKER_THROUGHPUT,
    HttpFigure,
    check_targets,
)
from cds.bench.serve import StartFigure


def _figure(resources: int, evaluate_ms: float, json_ms: float) -> InProcessFigure:
    return InProcessFigure(
        resources=resources,
        body_kb=1.0,
        bodies=1,
        bodies_with_cards=1,
        evaluate=Timing(runs=1, p50_ms=evaluate_ms, p90_ms=evaluate_ms),
        json_loads=Timing(runs=1, p50_ms=json_ms, p90_ms=json_ms),
        orjson_loads=Timing(runs=1, p50_ms=json_ms, p90_ms=json_ms),
        ratio_to_json=evaluate_ms / json_ms,
        ratio_to_orjson=evaluate_ms / json_ms,
    )


def _verdicts(
    inprocess: list[InProcessFigure], starts: list[StartFigure] | None = None
) -> dict[str, bool | None]:
    checks = check_targets(inprocess, http=[], starts=starts or [], memory=None)
    return {check.name: check.met for check in checks}


def test_in_process_ratio_within_three_times_is_met() -> None:
    verdicts = _verdicts([_figure(1000, 12.0, 5.0)])
    assert verdicts[IN_PROCESS] is True


def test_in_process_ratio_above_three_times_is_missed() -> None:
    verdicts = _verdicts([_figure(1000, 20.0, 5.0)])
    assert verdicts[IN_PROCESS] is False


def test_targets_of_a_run_without_http_are_not_measured() -> None:
    verdicts = _verdicts([_figure(10, 1.0, 0.1)])
    assert verdicts[IN_PROCESS] is None
    assert verdicts[THROUGHPUT] is None


def test_the_slowest_start_decides_the_start_target() -> None:
    starts = [
        StartFigure(workers=1, purpose="latency", healthz_s=1.0, first_answer_s=1.1),
        StartFigure(workers=2, purpose="latency", healthz_s=2.0, first_answer_s=2.1),
    ]
    assert _verdicts([], starts)[START] is False


def _http(workers: int, concurrency: int, p50_ms: float, rate: float) -> HttpFigure:
    load = LoadResult(
        concurrency=concurrency,
        requests=100,
        errors=0,
        statuses={"200": 100},
        duration_s=1.0,
        requests_per_second=rate,
        p50_ms=p50_ms,
        p90_ms=p50_ms,
        p99_ms=p50_ms,
    )
    return HttpFigure(workers=workers, resources=100, body_kb=1.0, load=load)


def _worker_verdicts(*http: HttpFigure) -> dict[str, bool | None]:
    return {check.name: check.met for check in check_targets([], list(http), [], None)}


def test_two_workers_meet_the_targets_when_latency_holds_and_throughput_nearly_doubles() -> None:
    verdicts = _worker_verdicts(
        _http(1, 1, 3.0, 300), _http(2, 1, 3.5, 280), _http(1, 16, 9, 400), _http(2, 16, 6, 760)
    )
    assert (verdicts[WORKER_LATENCY], verdicts[WORKER_THROUGHPUT]) == (True, True)


def test_two_workers_that_stall_and_serve_like_one_miss_both_targets() -> None:
    verdicts = _worker_verdicts(
        _http(1, 1, 3.0, 300), _http(2, 1, 44.0, 22), _http(1, 16, 9, 400), _http(2, 16, 9, 410)
    )
    assert (verdicts[WORKER_LATENCY], verdicts[WORKER_THROUGHPUT]) == (False, False)


def test_worker_targets_are_not_measured_without_both_worker_counts() -> None:
    verdicts = _worker_verdicts(_http(2, 1, 3.0, 300), _http(2, 16, 6, 760))
    assert (verdicts[WORKER_LATENCY], verdicts[WORKER_THROUGHPUT]) == (None, None)
