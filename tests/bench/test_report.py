"""Targets are read from the figures: met, missed, or not measured."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cds.bench.cpu import CallCpu
from cds.bench.floorcompare import FloorComparison, Placement, summarise
from cds.bench.inprocess import InProcessFigure, Timing
from cds.bench.load import LoadResult
from cds.bench.report import (
    IN_PROCESS,
    START,
    THROUGHPUT,
    WORKER_LATENCY,
    WORKER_THROUGHPUT,
    BenchReport,
    HttpFigure,
    Machine,
    RunSettings,
    WorkerRound,
    check_targets,
    floor_target,
    processor_description,
    render_floor_table,
    render_table,
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


def test_the_median_of_the_alternating_rounds_decides_the_worker_throughput_target() -> None:
    single_runs = [_http(1, 16, 9, 400), _http(2, 16, 6, 900)]
    rounds = [WorkerRound(one_worker_rps=400, two_workers_rps=rps) for rps in (600, 700, 900)]
    checks = check_targets([], single_runs, [], None, None, rounds)
    assert [c.met for c in checks if c.name == WORKER_THROUGHPUT] == [False]


def test_worker_targets_are_not_measured_without_both_worker_counts() -> None:
    verdicts = _worker_verdicts(_http(2, 1, 3.0, 300), _http(2, 16, 6, 760))
    assert (verdicts[WORKER_LATENCY], verdicts[WORKER_THROUGHPUT]) == (None, None)


def _against_floor(service_ms: dict[int, float], json_ms: float = 1.0) -> FloorComparison:
    runs = {
        size: {"json": [_load(json_ms)], "orjson": [_load(json_ms / 2)], "service": [_load(ms)]}
        for size, ms in service_ms.items()
    }
    placement = Placement(pinned=True, server_core=0, client_core=1, note="servers pinned to core 0")
    sizes = dict.fromkeys(service_ms, 8.0)
    return summarise(runs, sizes, dict.fromkeys(service_ms, 10), placement, {"service": (120.0, 118.0)})


def _load(p50_ms: float) -> LoadResult:
    return _http(1, 1, p50_ms, 100).load


def test_each_size_has_its_own_ratio_target_against_the_json_floor() -> None:
    floor = _against_floor({10: 2.9, 100: 2.1, 1000: 0.9})
    verdicts = {check.name: check.met for check in check_targets([], [], [], None, floor)}
    assert [verdicts[floor_target(size)] for size in (10, 100, 1000)] == [True, False, True]


def test_ratio_targets_are_not_measured_without_the_floor() -> None:
    verdicts = {check.name: check.met for check in check_targets([], [], [], None, None)}
    assert verdicts[floor_target(10)] is None


def _report(http: list[HttpFigure], floor: FloorComparison | None, processor: str = "") -> BenchReport:
    machine = Machine(
        cores=2,
        usable_cores=2,
        platform="Linux",
        python="3.11",
        versions={},
        load_average=(0.1, 0.2, 0.3),
        processor=processor,
    )
    return BenchReport(
        date=dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC),
        machine=machine,
        settings=RunSettings(
            quick=True, skip_http=False, sizes=(10,), variants=1, requests=1, memory_requests=0, data="x"
        ),
        inprocess=[],
        http=http,
        starts=[],
        memory=None,
        targets=check_targets([], http, [], None, floor),
        profile=None,
        load_average_end=(0.1, 0.2, 0.3),
        floor=floor,
    )


def test_the_floor_table_gives_date_cores_ratios_and_rss_per_worker() -> None:
    table = render_floor_table(_report([], _against_floor({10: 3.5})))
    assert table.startswith("Against the floor, 2026-12-01, 2 cores")
    row = next(line for line in table.splitlines() if line.startswith("| 10 |"))
    assert "3.50×" in row and "7.00×" in row and "MISSED" in row
    assert "service 120, 118 MB" in table


def test_the_floor_table_names_the_processor_it_was_measured_on() -> None:
    table = render_floor_table(_report([], _against_floor({10: 2.5}), processor="AMD EPYC, L3 32768K"))
    assert table.startswith("Against the floor, 2026-12-01, 2 cores, AMD EPYC, L3 32768K (load average")


def test_the_processor_is_its_model_and_the_sizes_of_its_unified_caches(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: fpu\n")
    caches = [
        ("1", "Data", "32K"),
        ("1", "Instruction", "32K"),
        ("2", "Unified", "1M"),
        ("3", "Unified", "32M"),
    ]
    for index, (level, kind, size) in enumerate(caches):
        folder = tmp_path / "cache" / f"index{index}"
        folder.mkdir(parents=True)
        for name, value in (("level", level), ("type", kind), ("size", size)):
            (folder / name).write_text(value + "\n")
    described = processor_description(tmp_path / "cpuinfo", tmp_path / "cache")
    assert described == "AMD EPYC, L2 1M, L3 32M"


def test_the_processor_is_empty_where_the_kernel_does_not_say(tmp_path: Path) -> None:
    assert processor_description(tmp_path / "no-cpuinfo", tmp_path / "no-cache") == ""


def test_the_floor_table_gives_the_cpu_stolen_while_each_size_was_measured() -> None:
    floor = _against_floor({10: 2.9, 100: 1.5})
    sizes = [floor.sizes[0].model_copy(update={"steal_percent": 7.25}), floor.sizes[1]]
    table = render_floor_table(_report([], floor.model_copy(update={"sizes": sizes})))
    rows = {line.split(" |")[0]: line for line in table.splitlines() if line.startswith("| 1")}
    assert "| 7.2 % |" in rows["| 10"]
    assert "| 1.50× | 3.00× |  | ≤ 2× json.loads floor: met |" in rows["| 100"]
    assert "CPU steal is the share of the machine's time its hypervisor gave other guests" in table


def test_the_floor_table_gives_each_servers_cpu_a_call_beside_its_latency() -> None:
    floor = _against_floor({10: 2.5})
    apps = {
        app: figure.model_copy(update={"server_cpu_ms": cpu})
        for (app, figure), cpu in zip(floor.sizes[0].apps.items(), (0.171, 0.142, 0.655), strict=True)
    }
    sizes = [floor.sizes[0].model_copy(update={"apps": apps})]
    table = render_floor_table(_report([], floor.model_copy(update={"sizes": sizes})))
    assert table.splitlines()[-1] == (
        "Server CPU a call (every thread, from /proc; medians of the rounds): "
        "10 resources: floor json.loads 0.17, floor orjson 0.14, service 0.66 ms"
    )


def test_the_floor_table_has_no_cpu_line_for_runs_that_did_not_measure_it() -> None:
    assert "Server CPU a call" not in render_floor_table(_report([], _against_floor({10: 2.5})))


def test_the_alternating_rounds_have_a_row_with_each_ratio_and_their_median() -> None:
    rounds = [WorkerRound(one_worker_rps=400, two_workers_rps=rps) for rps in (600, 800, 760)]
    report = _report([], None).model_copy(update={"worker_rounds": rounds})
    row = next(line for line in render_table(report).splitlines() if "alternating rounds" in line)
    assert "600 vs 400 req/s (1.50×), 800 vs 400 req/s (2.00×), 760 vs 400 req/s (1.90×)" in row
    assert "median 1.90×" in row


def test_an_http_row_says_how_much_cpu_the_server_and_the_load_client_used_a_call() -> None:
    used = CallCpu(server_ms=2.31, client_ms=0.22, server_wait_ms=0.05)
    figure = _http(2, 16, 6, 760).model_copy(update={"cpu": used})
    row = next(line for line in render_table(_report([figure], None)).splitlines() if "2 workers" in line)
    assert "CPU a call: server 2.31 ms (waited 0.05 ms for a core), load client 0.22 ms" in row
