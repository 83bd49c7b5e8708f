"""One benchmark run: build the bodies, measure in process, profile, then the real service over HTTP.

The in-process part runs with the start-up objects frozen out of the garbage collector, as the service
does after start-up, so both see the same collector work per request. The HTTP part starts a fresh
server per worker count, and one more for the memory run so its "after 1,000 requests" is exact.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from cds.bench import cpu
from cds.bench.floorcompare import FloorComparison, compare_with_floor
from cds.bench.inprocess import BodyHandler, measure_size, warm_up
from cds.bench.load import run_load
from cds.bench.profile import ProfileResult, profile_handler
from cds.bench.report import (
    BenchReport,
    HttpFigure,
    RunSettings,
    check_targets,
    describe_machine,
    load_average,
)
from cds.bench.serve import (
    HOST,
    ConnectionSplit,
    MemoryFigure,
    StartFigure,
    measure_memory,
    measure_split,
    running_server,
)
from cds.bench.stages import StageProfile, profile_stages
from cds.bench.workload import SERVICE_PATH, SIZES, BenchRequest, ChartLibrary, build_workload
from cds.evaluation import Evaluator
from cds.rulebook import load_rulebook

DEFAULT_MAX_REQUEST_BYTES = 5_000_000
PROFILE_SIZE = 1000
MEMORY_SIZE = 100
MEMORY_FIRST = 1000
MEMORY_CONCURRENCY = 16
FLOOR_SIZES = (10, 100, 1000)
STAGE_SIZES = (10, PROFILE_SIZE)

Progress = Callable[[str], None]


class BenchOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    data: Path
    quick: bool = False
    skip_http: bool = False
    requests: int | None = None
    """Requests per HTTP run at up to 100 resources (fewer for larger bodies); None: 2,000, quick 50."""
    memory_requests: int | None = None
    """Requests of the memory run; None: 100,000, quick 500."""
    profile: bool = False


class _Plan(BaseModel):
    sizes: tuple[int, ...]
    variants: int
    budget_s: float
    profile_s: float
    sequential_sizes: tuple[int, ...]
    concurrent_sizes: tuple[int, ...]
    requests: int
    memory_first: int
    memory_total: int
    stage_requests: int
    """Calls of the stage profile at 10 resources (a tenth at 1000)."""
    warm_up_rounds: int
    """Passes over every body of every size before anything is timed, in process and over HTTP."""
    floor_rounds: int
    floor_requests: int
    """Requests per round against the floor at up to 100 resources (a tenth at 1000)."""


def _plan(options: BenchOptions) -> _Plan:
    if options.quick:
        return _Plan(
            sizes=(10, 100),
            variants=2,
            budget_s=0.2,
            profile_s=0.5,
            stage_requests=200,
            sequential_sizes=(10, 100),
            concurrent_sizes=(100,),
            requests=options.requests or 50,
            memory_first=100,
            memory_total=max(options.memory_requests or 500, 101),
            warm_up_rounds=2,
            floor_rounds=3,
            floor_requests=options.requests or 50,
        )
    return _Plan(
        sizes=SIZES,
        variants=4,
        budget_s=3.0,
        profile_s=5.0,
        stage_requests=2000,
        sequential_sizes=SIZES,
        concurrent_sizes=(10, 100, 1000),
        requests=options.requests or 2000,
        memory_first=MEMORY_FIRST,
        memory_total=max(options.memory_requests or 100_000, MEMORY_FIRST + 1),
        warm_up_rounds=5,
        floor_rounds=5,
        floor_requests=(options.requests or 2000) // 4,
    )


def requests_for(size: int, base: int, least: int = 20) -> int:
    """`base` requests up to 100 resources, proportionally fewer above, never under `least`."""
    return max(least, base * 100 // max(size, 100))


def run_bench(options: BenchOptions, progress: Progress) -> BenchReport:
    plan = _plan(options)
    machine = describe_machine()
    today = dt.datetime.now(dt.UTC).date()
    progress(f"building request bodies from {options.data}")
    library = ChartLibrary(options.data)
    wanted = {*plan.sizes, *FLOOR_SIZES} if not options.skip_http else set(plan.sizes)
    if options.profile:
        wanted.add(PROFILE_SIZE)
    workload = build_workload(library, tuple(sorted(wanted)), plan.variants, today)
    del library
    handler = BodyHandler(Evaluator(load_rulebook()))
    gc.collect()
    gc.freeze()
    try:
        progress("in process: warming up on every size")
        warm_up(handler, [workload[size] for size in plan.sizes], rounds=plan.warm_up_rounds)
        inprocess = []
        for size in plan.sizes:
            progress(f"in process: {size} resources")
            inprocess.append(measure_size(handler, workload[size], budget_s=plan.budget_s))
        profile = None
        if options.profile:
            progress(f"profiling in process: {PROFILE_SIZE} resources")
            bodies = [r.body for r in workload[PROFILE_SIZE]]
            profile = profile_handler(handler, bodies, PROFILE_SIZE, seconds=plan.profile_s)
    finally:
        gc.unfreeze()
    stages: list[StageProfile] = []
    if options.profile:
        for size in STAGE_SIZES:
            progress(f"stages of a call in process: {size} resources")
            calls = max(20, plan.stage_requests * 10 // size)
            stages.append(profile_stages([r.body for r in workload[size]], size, requests=calls))
    http: list[HttpFigure] = []
    starts: list[StartFigure] = []
    memory = None
    splits: list[ConnectionSplit] = []
    floor = None
    if not options.skip_http:
        floor = _measure_floor(workload, plan, progress)
        http, starts, memory, splits = _measure_http(workload, plan, progress)
    return BenchReport(
        date=dt.datetime.now(dt.UTC).replace(microsecond=0),
        machine=machine,
        settings=RunSettings(
            quick=options.quick,
            skip_http=options.skip_http,
            sizes=plan.sizes,
            variants=plan.variants,
            requests=plan.requests,
            memory_requests=0 if options.skip_http else plan.memory_total,
            data=str(options.data),
        ),
        inprocess=inprocess,
        http=http,
        starts=starts,
        memory=memory,
        targets=check_targets(inprocess, http, starts, memory, floor),
        profile=_profile_text(profile),
        load_average_end=load_average(),
        connection_splits=splits,
        floor=floor,
        stages=stages,
    )


def _profile_text(profile: ProfileResult | None) -> str | None:
    if profile is None:
        return None
    return f"{profile.calls} calls of {profile.resources} resources, share of the total time:\n{profile.tree}"


def _request_limit(workload: dict[int, list[BenchRequest]]) -> int:
    """The service's body limit, raised when a body is larger, so that every body is accepted."""
    largest = max(len(r.body) for requests in workload.values() for r in requests)
    return max(DEFAULT_MAX_REQUEST_BYTES, 2 * largest)


def _measure_floor(
    workload: dict[int, list[BenchRequest]], plan: _Plan, progress: Progress
) -> FloorComparison:
    return compare_with_floor(
        {size: [r.body for r in workload[size]] for size in FLOOR_SIZES},
        rounds=plan.floor_rounds,
        warm_up_rounds=plan.warm_up_rounds,
        requests=lambda size: requests_for(size, plan.floor_requests, least=10),
        max_request_bytes=_request_limit(workload),
        progress=progress,
    )


def _measure_http(
    workload: dict[int, list[BenchRequest]], plan: _Plan, progress: Progress
) -> tuple[list[HttpFigure], list[StartFigure], MemoryFigure, list[ConnectionSplit]]:
    limit = _request_limit(workload)
    first_body = workload[MEMORY_SIZE][0].body
    figures: list[HttpFigure] = []
    starts: list[StartFigure] = []
    splits: list[ConnectionSplit] = []
    for workers in (1, 2):
        progress(f"HTTP: starting `cds serve` with {workers} worker(s)")
        with running_server(workers, first_body, max_request_bytes=limit, purpose="latency") as (
            server,
            start,
        ):
            starts.append(start)
            runs = [(s, 1) for s in plan.sequential_sizes] + [(s, 16) for s in plan.concurrent_sizes]
            for size, concurrency in runs:
                progress(f"HTTP: {workers} worker(s), {size} resources, concurrency {concurrency}")
                requests = workload[size]
                warmup = 2 * concurrency if size <= PROFILE_SIZE else 2
                before = cpu.snapshot(server.pids())
                load = run_load(
                    HOST,
                    server.port,
                    SERVICE_PATH,
                    [r.body for r in requests],
                    concurrency=concurrency,
                    requests=requests_for(size, plan.requests),
                    warmup=warmup,
                )
                used = cpu.per_call(before, cpu.snapshot(server.pids()), load.requests + warmup)
                body_kb = round(sum(len(r.body) for r in requests) / len(requests) / 1024, 1)
                figures.append(
                    HttpFigure(workers=workers, resources=size, body_kb=body_kb, load=load, cpu=used)
                )
            if workers > 1:
                progress(f"HTTP: how 16 keep-alive connections spread over {workers} workers")
                splits.append(measure_split(server))
    progress(
        f"HTTP: memory run, 2 workers, {plan.memory_first:,} then {plan.memory_total:,} requests "
        f"of {MEMORY_SIZE} resources"
    )
    with running_server(2, first_body, max_request_bytes=limit, purpose="memory") as (server, start):
        starts.append(start)
        memory = measure_memory(
            server,
            [r.body for r in workload[MEMORY_SIZE]],
            MEMORY_SIZE,
            first=plan.memory_first,
            total=plan.memory_total,
            concurrency=MEMORY_CONCURRENCY,
        )
    return figures, starts, memory, splits
