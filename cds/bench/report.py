"""The figures of one run: one Markdown table for people, one JSON file for machines and later comparison.

Targets are read from the figures here rather than asserted anywhere, because timings on a shared or
small machine vary too much for a pass/fail test; the table says per row whether its target was met.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import statistics
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from cds.bench.cpu import CallCpu
from cds.bench.floorcompare import APPS, RATIO_TARGETS, FloorComparison
from cds.bench.inprocess import InProcessFigure
from cds.bench.load import LoadResult
from cds.bench.serve import ConnectionSplit, MemoryFigure, StartFigure
from cds.bench.stages import StageProfile

PACKAGES = (
    "spasm-cds",
    "durable-rules",
    "fhir.resources",
    "pydantic",
    "orjson",
    "starlette",
    "uvicorn",
    "uvloop",
)
CLIENT = (
    "one client process on the same machine: one asyncio event loop (uvloop) with a keep-alive HTTP/1.1 "
    "connection per concurrent client, closed loop, requests pre-serialised; client and server share the "
    "cores, placed by the scheduler"
)


class Machine(BaseModel):
    model_config = ConfigDict(frozen=True)

    cores: int
    usable_cores: int
    platform: str
    python: str
    versions: dict[str, str]
    load_average: tuple[float, float, float]
    """1, 5 and 15 minute load averages when the run started: other work on the machine skews figures."""
    processor: str = ""
    """The CPU model and its caches (`processor_description`); empty in reports from before it was
    recorded, or where the kernel does not say."""


class HttpFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    workers: int
    resources: int
    body_kb: float
    load: LoadResult
    cpu: CallCpu | None = None
    """Who used the cores, per call (warm-up included); None in reports from before it was measured."""


class WorkerRound(BaseModel):
    """One round of the worker comparison: a fresh 1-worker and a fresh 2-worker server, one after another."""

    model_config = ConfigDict(frozen=True)

    one_worker_rps: float
    two_workers_rps: float

    @property
    def ratio(self) -> float:
        return self.two_workers_rps / self.one_worker_rps if self.one_worker_rps else 0.0


class TargetCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    target: str
    measured: str | None
    met: bool | None
    """None when the run did not measure it (--skip-http, --quick)."""


class RunSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    quick: bool
    skip_http: bool
    sizes: tuple[int, ...]
    variants: int
    requests: int
    memory_requests: int
    data: str
    client: str = CLIENT


class BenchReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    date: dt.datetime
    machine: Machine
    settings: RunSettings
    inprocess: list[InProcessFigure]
    http: list[HttpFigure]
    starts: list[StartFigure]
    memory: MemoryFigure | None
    targets: list[TargetCheck]
    profile: str | None
    load_average_end: tuple[float, float, float]
    connection_splits: list[ConnectionSplit] = []
    floor: FloorComparison | None = None
    """The service against the bare floor app, interleaved (issue 12); None with --skip-http."""
    stages: list[StageProfile] = []
    """Where the time of a call goes, per stage (--profile)."""
    worker_rounds: list[WorkerRound] = []
    """2 workers against 1 at concurrency 16, 100 resources, in alternating rounds on fresh servers."""


def describe_machine() -> Machine:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return Machine(
        cores=os.cpu_count() or 0,
        usable_cores=len(os.sched_getaffinity(0)),
        platform=platform.platform(),
        python=platform.python_version(),
        versions=versions,
        load_average=load_average(),
        processor=processor_description(),
    )


def processor_description(
    cpuinfo: Path = Path("/proc/cpuinfo"), caches: Path = Path("/sys/devices/system/cpu/cpu0/cache")
) -> str:
    """The model and the caches of the first core, e.g. "AMD EPYC, L2 1024K, L3 32768K". A cloud machine
    of the same size can be a different processor from one day to the next, and the ratio at 10
    resources moved with it (3.5x on an Intel Xeon, 2.4-3.2x on an AMD EPYC with the same code), so a
    run names the one it measured."""
    model = ""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name":
                model = value.strip()
                break
    except OSError:
        pass
    sizes: list[str] = []
    for index in sorted(caches.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Unified":
            sizes.append(f"L{level} {size}")
    return ", ".join([model, *sizes] if model else sizes)


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def _find_http(http: list[HttpFigure], workers: int, resources: int, concurrency: int) -> LoadResult | None:
    for figure in http:
        if (figure.workers, figure.resources, figure.load.concurrency) == (workers, resources, concurrency):
            return figure.load
    return None


def _check(name: str, target: str, measured: str | None, met: bool) -> TargetCheck:
    return TargetCheck(name=name, target=target, measured=measured, met=met if measured is not None else None)


IN_PROCESS = "in process, 1000 resources"
LATENCY_100 = "HTTP p50, 1 worker, concurrency 1, 100 resources"
LATENCY_1000 = "HTTP p50, 1 worker, concurrency 1, 1000 resources"
THROUGHPUT = "HTTP, 2 workers, concurrency 16, 100 resources"
MEMORY = "memory after the long run vs after the first calls"
START = "service start to first answer (slowest start)"
WORKER_LATENCY = "HTTP p50, 2 workers vs 1, concurrency 1, 100 resources"
WORKER_THROUGHPUT = "HTTP req/s, 2 workers vs 1, concurrency 16, 100 resources"


def floor_target(resources: int) -> str:
    return f"HTTP p50 against the json.loads floor, {resources} resources"


def check_targets(
    inprocess: list[InProcessFigure],
    http: list[HttpFigure],
    starts: list[StartFigure],
    memory: MemoryFigure | None,
    floor: FloorComparison | None = None,
    worker_rounds: list[WorkerRound] | None = None,
) -> list[TargetCheck]:
    """The targets of issues 5, 11 and 12, each met, missed, or not measured in this run; the worker
    throughput ratio is the median of the alternating rounds when there are any."""
    at_1000 = next((f for f in inprocess if f.resources == 1000), None)
    c1_100 = _find_http(http, 1, 100, 1)
    c1_1000 = _find_http(http, 1, 1000, 1)
    c16 = _find_http(http, 2, 100, 16)
    slowest = max((s.first_answer_s for s in starts), default=None)
    two_c1, one_c16 = _find_http(http, 2, 100, 1), _find_http(http, 1, 100, 16)
    latency_ratio = two_c1.p50_ms / c1_100.p50_ms if two_c1 and c1_100 and c1_100.p50_ms else None
    throughput_ratio = (
        c16.requests_per_second / one_c16.requests_per_second
        if c16 and one_c16 and one_c16.requests_per_second
        else None
    )
    if worker_rounds:
        throughput_ratio = statistics.median(round_.ratio for round_ in worker_rounds)
    measured = {size.resources: size for size in floor.sizes} if floor else {}
    against_floor = [
        _check(
            floor_target(resources),
            f"≤ {limit:g}× json.loads floor",
            f"{measured[resources].ratio_to_json:.2f}×" if resources in measured else None,
            resources in measured and measured[resources].ratio_to_json <= limit,
        )
        for resources, limit in RATIO_TARGETS.items()
    ]
    return [
        *against_floor,
        _check(
            IN_PROCESS,
            "≤ 3× json.loads",
            f"{at_1000.ratio_to_json:.2f}×" if at_1000 else None,
            at_1000 is not None and at_1000.ratio_to_json <= 3,
        ),
        _check(
            LATENCY_100,
            "≤ 3 ms",
            f"{c1_100.p50_ms:.2f} ms" if c1_100 else None,
            c1_100 is not None and c1_100.p50_ms <= 3,
        ),
        _check(
            LATENCY_1000,
            "≤ 15 ms",
            f"{c1_1000.p50_ms:.2f} ms" if c1_1000 else None,
            c1_1000 is not None and c1_1000.p50_ms <= 15,
        ),
        _check(
            THROUGHPUT,
            "≥ 400 req/s, no errors",
            f"{c16.requests_per_second:.0f} req/s, {c16.errors} errors" if c16 else None,
            c16 is not None and c16.requests_per_second >= 400 and c16.errors == 0,
        ),
        _check(
            MEMORY,
            "within 10 %",
            f"{memory.growth_percent:+.1f} %" if memory else None,
            memory is not None and abs(memory.growth_percent) <= 10,
        ),
        _check(START, "< 2 s", f"{slowest:.2f} s" if slowest is not None else None, (slowest or 0) < 2),
        _check(
            WORKER_LATENCY,
            "within 1.2× of 1 worker",
            f"{latency_ratio:.2f}×" if latency_ratio is not None else None,
            latency_ratio is not None and latency_ratio <= 1.2,
        ),
        _check(
            WORKER_THROUGHPUT,
            "≥ 1.8× 1 worker",
            f"{throughput_ratio:.2f}×" if throughput_ratio is not None else None,
            throughput_ratio is not None and throughput_ratio >= 1.8,
        ),
    ]


def _verdicts(report: BenchReport) -> dict[str, str]:
    return {
        check.name: f"target {check.target}: {'met' if check.met else 'MISSED'}"
        for check in report.targets
        if check.met is not None
    }


APP_NAMES = {"json": "floor json.loads", "orjson": "floor orjson", "service": "service"}


def render_floor_table(report: BenchReport) -> str:
    """The service against the floor: p50/p99 of each, the ratio, RSS per worker, the run's date and cores."""
    floor = report.floor
    if floor is None:
        return ""
    verdicts = _verdicts(report)
    heading = (
        f"Against the floor, {report.date:%Y-%m-%d}, {report.machine.cores} cores"
        f"{f', {report.machine.processor}' if report.machine.processor else ''} (load average "
        f"{' '.join(map(str, report.machine.load_average))} at the start): 1 worker each, concurrency 1, "
        f"{floor.placement.note}; medians of {floor.rounds} interleaved rounds; CPU steal is the share of "
        "the machine's time its hypervisor gave other guests while that size was measured (/proc/stat)"
    )
    rows = [
        heading,
        "",
        "| N | body KB | "
        + " | ".join(f"{APP_NAMES[app]} p50 / p99 ms" for app in APPS)
        + " | service / json floor | service / orjson floor | CPU steal | target |",
        "|--:|--:|" + "--:|" * len(APPS) + "--:|--:|--:|---|",
    ]
    for size in floor.sizes:
        cells = [f"{size.apps[app].p50_ms:.2f} / {size.apps[app].p99_ms:.2f}" for app in APPS]
        verdict = verdicts.get(floor_target(size.resources), "").removeprefix("target ")
        rows.append(
            f"| {size.resources:,} | {size.body_kb:,.0f} | {' | '.join(cells)} | "
            f"{size.ratio_to_json:.2f}× | {size.ratio_to_orjson:.2f}× | {_percent(size.steal_percent)} "
            f"| {verdict} |"
        )
    rss = "; ".join(
        f"{APP_NAMES[app]} {', '.join(f'{mb:.0f}' for mb in floor.rss_per_worker_mb.get(app, ()))} MB"
        for app in APPS
    )
    rows += ["", f"RSS per worker after the rounds: {rss}"]
    cpu = _server_cpu_line(floor)
    return "\n".join([*rows, cpu] if cpu else rows)


def _server_cpu_line(floor: FloorComparison) -> str:
    """Each server's CPU a call beside its p50: at concurrency 1 the difference is time it spent
    waiting (the client's turn, wake-ups), so two runs whose ratios differ can be told apart by it."""
    sizes = []
    for size in floor.sizes:
        figures = [
            f"{APP_NAMES[app]} {cpu:.2f}" for app in APPS if (cpu := size.apps[app].server_cpu_ms) is not None
        ]
        if figures:
            sizes.append(f"{size.resources:,} resources: {', '.join(figures)} ms")
    if not sizes:
        return ""
    return "Server CPU a call (every thread, from /proc; medians of the rounds): " + "; ".join(sizes)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} %"


def render_table(report: BenchReport) -> str:
    """One Markdown table: every figure of the run, with the verdict on the rows a target is about."""
    verdicts = _verdicts(report)
    rows = [
        "| figure | N | body KB | p50 ms | p90 ms | p99 ms | req/s | errors | notes |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for f in report.inprocess:
        notes = [
            f"{f.ratio_to_json:.2f}× json.loads, {f.ratio_to_orjson:.2f}× orjson.loads",
            f"{f.bodies_with_cards} of {f.bodies} bodies give cards",
        ]
        if f.resources == 1000:
            notes.append(verdicts.get(IN_PROCESS, ""))
        rows.append(
            _row(
                "in process: evaluate",
                f.resources,
                f.body_kb,
                f.evaluate.p50_ms,
                f.evaluate.p90_ms,
                notes=notes,
            )
        )
        for name, t in (("json.loads", f.json_loads), ("orjson.loads", f.orjson_loads)):
            rows.append(_row(f"in process: {name}", f.resources, f.body_kb, t.p50_ms, t.p90_ms))
    targeted = {
        (1, 100, 1): (LATENCY_100,),
        (1, 1000, 1): (LATENCY_1000,),
        (2, 100, 1): (WORKER_LATENCY,),
        (2, 100, 16): (THROUGHPUT,) if report.worker_rounds else (THROUGHPUT, WORKER_THROUGHPUT),
    }
    for h in report.http:
        load = h.load
        targets = targeted.get((h.workers, h.resources, load.concurrency), ())
        rows.append(
            _row(
                f"HTTP: {_workers(h.workers)}, concurrency {load.concurrency}",
                h.resources,
                h.body_kb,
                load.p50_ms,
                load.p90_ms,
                load.p99_ms,
                load.requests_per_second,
                load.errors,
                [
                    f"{load.requests:,} requests",
                    _cpu_note(h.cpu),
                    *(verdicts.get(target, "") for target in targets),
                ],
            )
        )
    if report.worker_rounds:
        ratios = ", ".join(
            f"{r.two_workers_rps:.0f} vs {r.one_worker_rps:.0f} req/s ({r.ratio:.2f}×)"
            for r in report.worker_rounds
        )
        rows.append(
            _row(
                "HTTP: 2 workers vs 1, concurrency 16, alternating rounds",
                100,
                notes=[
                    f"fresh servers per round: {ratios}",
                    f"median {statistics.median(r.ratio for r in report.worker_rounds):.2f}×",
                    verdicts.get(WORKER_THROUGHPUT, ""),
                ],
            )
        )
    slowest = max(report.starts, key=lambda s: s.first_answer_s, default=None)
    for s in report.starts:
        notes = [f"{s.first_answer_s:.2f} s (healthz after {s.healthz_s:.2f} s)"]
        if s is slowest:
            notes.append(verdicts.get(START, ""))
        rows.append(_row(f"start to first answer, {_workers(s.workers)} ({s.purpose} run)", notes=notes))
    if report.memory:
        m = report.memory
        notes = [
            f"RSS {m.rss_after_first_mb:.0f} MB after {m.first_requests:,} requests, "
            f"{m.rss_after_total_mb:.0f} MB after {m.total_requests:,} ({m.growth_percent:+.1f} %)",
            verdicts.get(MEMORY, ""),
        ]
        rows.append(
            _row(
                f"server memory: {_workers(m.workers)}, concurrency {m.concurrency}",
                m.resources,
                errors=m.errors,
                notes=notes,
            )
        )
    for split in report.connection_splits:
        shares = ", ".join(":".join(str(n) for n in round_) for round_ in split.rounds)
        rows.append(
            _row(
                f"{split.connections} keep-alive connections across {_workers(split.workers)}",
                notes=[f"connections per worker, {len(split.rounds)} rounds: {shares}"],
            )
        )
    return "\n".join(rows)


def _cpu_note(used: CallCpu | None) -> str:
    if used is None:
        return ""
    return (
        f"CPU a call: server {used.server_ms:.2f} ms (waited {used.server_wait_ms:.2f} ms for a core), "
        f"load client {used.client_ms:.2f} ms"
    )


def _workers(count: int) -> str:
    return f"{count} worker{'s' if count > 1 else ''}"


def _cell(value: float | None, digits: int = 2) -> str:
    if value is None:
        return ""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"


def _row(
    what: str,
    resources: int | None = None,
    body_kb: float | None = None,
    p50: float | None = None,
    p90: float | None = None,
    p99: float | None = None,
    rate: float | None = None,
    errors: int | None = None,
    notes: list[str] | None = None,
) -> str:
    numbers = [
        _cell(resources),
        _cell(body_kb, 0),
        _cell(p50),
        _cell(p90),
        _cell(p99),
        _cell(rate, 0),
        _cell(errors),
    ]
    note = "; ".join(n for n in notes or [] if n)
    return "| " + " | ".join([what, *numbers, note]) + " |"


def write_json(report: BenchReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
