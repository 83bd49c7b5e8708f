"""The service against the floor over HTTP (issue 12): same bodies, same run, interleaved.

Three servers run side by side, each with one worker: the service and the two floor variants
(`cds.bench.floor`). A round sends every size to each of them in turn, the order rotating from round
to round, so whatever else the machine is doing lands on all three alike; the figures are medians of
the rounds' p50 and p99. At concurrency 1 the servers are pinned to one core and this process, the
client, to another, when the machine gives this process two cores; the figures say when it does not.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager

from pydantic import BaseModel, ConfigDict

from cds.bench.cpu import MachineTicks, machine_ticks, per_call, snapshot, steal_percent
from cds.bench.load import LoadResult, run_load
from cds.bench.serve import HOST, Server, running_server
from cds.bench.workload import SERVICE_PATH

APPS = ("json", "orjson", "service")
"""The floor variants, then the service: the keys of every per-app figure."""
RATIO_TARGETS = {10: 3.0, 100: 2.0, 1000: 1.0}
"""Issue 12: service p50 at most this many times the json.loads floor's, by resources."""
WARM_UP_CALLS = 2
"""Sent before each measured run, untimed; the server's CPU clocks count them."""


class Placement(BaseModel):
    model_config = ConfigDict(frozen=True)

    pinned: bool
    server_core: int | None
    client_core: int | None
    note: str
    """Where the processes ran, in words for the table."""


class AppFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    p50_ms: float
    """Median over the rounds of each round's p50."""
    p99_ms: float
    """Median over the rounds of each round's p99."""
    rounds_p50_ms: tuple[float, ...]
    rounds_p99_ms: tuple[float, ...]
    errors: int
    server_cpu_ms: float | None = None
    """Median over the rounds of the server's CPU a call (every thread, from /proc): beside the p50 it
    says whether the time went to this server's work or to waiting (the client's turn, wake-ups)."""


class SizeComparison(BaseModel):
    model_config = ConfigDict(frozen=True)

    resources: int
    body_kb: float
    requests_per_round: int
    apps: dict[str, AppFigure]
    """"json", "orjson" (the floors) and "service"."""
    ratio_to_json: float
    """Service p50 / json.loads floor p50: the issue-12 figure."""
    ratio_to_orjson: float
    target: float | None
    steal_percent: float | None = None
    """The machine's time stolen by its hypervisor while this size was measured (`cpu.steal_percent`)."""


class FloorComparison(BaseModel):
    model_config = ConfigDict(frozen=True)

    placement: Placement
    rounds: int
    sizes: list[SizeComparison]
    rss_per_worker_mb: dict[str, tuple[float, ...]]
    """App -> resident set of each of its workers after the rounds."""


def placement(usable: Iterable[int] | None = None) -> Placement:
    """Server on the first core this process may use (or of `usable`), client on the second, if any."""
    cores = sorted(os.sched_getaffinity(0) if usable is None else usable)
    if len(cores) < 2:
        return Placement(
            pinned=False,
            server_core=None,
            client_core=None,
            note=f"not pinned: this process may use {len(cores)} core, server and client share it",
        )
    server, client = cores[0], cores[1]
    return Placement(
        pinned=True,
        server_core=server,
        client_core=client,
        note=f"servers pinned to core {server}, client to core {client}",
    )


@contextmanager
def _client_on(core: int | None) -> Iterator[None]:
    if core is None:
        yield
        return
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


def interleave(
    sizes: Sequence[int], rounds: int, measure: Callable[[str, int], LoadResult]
) -> dict[int, dict[str, list[LoadResult]]]:
    """Runs `measure(app, size)` round-robin: every round visits every size and, per size, every app,
    starting one app further on each round. Returns size -> app -> one result per round."""
    results: dict[int, dict[str, list[LoadResult]]] = {size: {app: [] for app in APPS} for size in sizes}
    for index in range(rounds):
        order = APPS[index % len(APPS) :] + APPS[: index % len(APPS)]
        for size in sizes:
            for app in order:
                results[size][app].append(measure(app, size))
    return results


def summarise(
    results: dict[int, dict[str, list[LoadResult]]],
    body_kb: dict[int, float],
    requests: dict[int, int],
    where: Placement,
    rss: dict[str, tuple[float, ...]],
    steal: Mapping[int, float | None] | None = None,
    server_cpu: Mapping[int, Mapping[str, Sequence[float]]] | None = None,
) -> FloorComparison:
    """`steal`: by size, the share of the machine's time stolen while it was measured; `server_cpu`: by
    size and app, the server's CPU a call in each round."""
    sizes = []
    for size, by_app in results.items():
        cpu = (server_cpu or {}).get(size, {})
        apps = {app: _figure(runs, cpu.get(app, ())) for app, runs in by_app.items()}
        service = apps["service"].p50_ms
        sizes.append(
            SizeComparison(
                resources=size,
                body_kb=body_kb[size],
                requests_per_round=requests[size],
                apps=apps,
                ratio_to_json=_ratio(service, apps["json"].p50_ms),
                ratio_to_orjson=_ratio(service, apps["orjson"].p50_ms),
                target=RATIO_TARGETS.get(size),
                steal_percent=(steal or {}).get(size),
            )
        )
    rounds = len(next(iter(next(iter(results.values())).values()))) if results else 0
    return FloorComparison(placement=where, rounds=rounds, sizes=sizes, rss_per_worker_mb=rss)


def _figure(runs: list[LoadResult], server_cpu: Sequence[float]) -> AppFigure:
    p50 = tuple(run.p50_ms for run in runs)
    p99 = tuple(run.p99_ms for run in runs)
    return AppFigure(
        p50_ms=round(statistics.median(p50), 3),
        p99_ms=round(statistics.median(p99), 3),
        rounds_p50_ms=p50,
        rounds_p99_ms=p99,
        errors=sum(run.errors for run in runs),
        server_cpu_ms=round(statistics.median(server_cpu), 3) if server_cpu else None,
    )


def _ratio(value: float, floor: float) -> float:
    return round(value / floor, 2) if floor else 0.0


def compare_with_floor(
    bodies: dict[int, list[bytes]],
    *,
    rounds: int,
    requests: Callable[[int], int],
    max_request_bytes: int,
    progress: Callable[[str], None],
    warm_up_rounds: int = 5,
) -> FloorComparison:
    """Starts the three servers, warms each on every body of every size (`warm_up_rounds` passes, so
    the first size measured does not pay for the caches of the others), measures them interleaved at
    concurrency 1, and stops them."""
    where = placement()
    first = next(iter(bodies.values()))[0]
    with ExitStack() as stack:
        servers: dict[str, Server] = {}
        for app in APPS:
            progress(f"HTTP against the floor: starting {app} ({where.note})")
            server, _ = stack.enter_context(
                running_server(
                    1,
                    first,
                    max_request_bytes=max_request_bytes,
                    purpose="floor comparison",
                    floor=None if app == "service" else app,
                    core=where.server_core,
                )
            )
            servers[app] = server

        spans: dict[int, list[tuple[MachineTicks | None, MachineTicks | None]]] = {s: [] for s in bodies}
        cpu: dict[int, dict[str, list[float]]] = {s: {app: [] for app in APPS} for s in bodies}

        def measure(app: str, size: int) -> LoadResult:
            before = machine_ticks()
            pids = servers[app].pids()
            clocks = snapshot(pids)
            result = run_load(
                HOST,
                servers[app].port,
                SERVICE_PATH,
                bodies[size],
                concurrency=1,
                requests=requests(size),
                warmup=WARM_UP_CALLS,
            )
            spans[size].append((before, machine_ticks()))
            calls = result.requests + WARM_UP_CALLS
            cpu[size][app].append(per_call(clocks, snapshot(pids), calls).server_ms)
            return result

        sizes = ", ".join(map(str, bodies))
        progress(
            f"HTTP against the floor: warming up, then {rounds} interleaved rounds over {sizes} resources"
        )
        with _client_on(where.client_core):
            for app in APPS:
                for size in bodies:
                    run_load(
                        HOST,
                        servers[app].port,
                        SERVICE_PATH,
                        bodies[size],
                        concurrency=1,
                        requests=warm_up_rounds * len(bodies[size]),
                        warmup=0,
                    )
            results = interleave(list(bodies), rounds, measure)
        rss = {app: server.worker_rss_mb() for app, server in servers.items()}
    body_kb = {size: round(sum(map(len, b)) / len(b) / 1024, 1) for size, b in bodies.items()}
    steal = {size: steal_percent(spans[size]) for size in bodies}
    return summarise(results, body_kb, {size: requests(size) for size in bodies}, where, rss, steal, cpu)
