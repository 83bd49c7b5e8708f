"""Against the floor: rounds interleave the apps, figures are medians of rounds, ratios are of p50s."""

from __future__ import annotations

from cds.bench.floorcompare import APPS, Placement, interleave, placement, summarise
from cds.bench.load import LoadResult

PINNED = Placement(pinned=True, server_core=0, client_core=1, note="pinned")


def _load(p50: float, p99: float | None = None) -> LoadResult:
    return LoadResult(
        concurrency=1,
        requests=10,
        errors=0,
        statuses={"200": 10},
        duration_s=1.0,
        requests_per_second=10.0,
        p50_ms=p50,
        p90_ms=p50,
        p99_ms=p99 or p50,
    )


def test_each_round_visits_every_size_and_app_starting_one_app_further_on() -> None:
    visits: list[tuple[str, int]] = []

    def measure(app: str, size: int) -> LoadResult:
        visits.append((app, size))
        return _load(1.0)

    results = interleave([10, 100], rounds=3, measure=measure)
    assert [app for app, size in visits if size == 10] == [
        *APPS,
        *APPS[1:],
        APPS[0],
        *APPS[2:],
        *APPS[:2],
    ]
    assert all(len(results[size][app]) == 3 for size in (10, 100) for app in APPS)


def test_figures_are_medians_of_the_rounds_and_the_ratio_is_of_p50s() -> None:
    runs = {
        "json": [_load(0.2, 1.0), _load(0.3, 9.0), _load(0.2, 2.0)],
        "orjson": [_load(0.1), _load(0.1), _load(0.1)],
        "service": [_load(0.6), _load(5.0), _load(0.5)],
    }
    summary = summarise({10: runs}, {10: 8.0}, {10: 10}, PINNED, {"service": (100.0,)})
    size = summary.sizes[0]
    assert (size.apps["json"].p50_ms, size.apps["json"].p99_ms) == (0.2, 2.0)
    assert size.apps["service"].p50_ms == 0.6
    assert size.ratio_to_json == 3.0
    assert size.target == 3.0
    assert summary.rounds == 3


def test_server_and_client_are_pinned_to_different_cores() -> None:
    where = placement({3, 1, 2})
    assert (where.pinned, where.server_core, where.client_core) == (True, 1, 2)


def test_one_usable_core_is_not_pinned_and_the_placement_says_so() -> None:
    where = placement({0})
    assert (where.pinned, where.server_core, where.client_core) == (False, None, None)
    assert where.note.startswith("not pinned")


def test_each_size_carries_the_cpu_stolen_while_it_was_measured() -> None:
    runs = {app: [_load(1.0)] for app in APPS}
    summary = summarise({10: runs, 100: runs}, {10: 8.0, 100: 80.0}, {10: 10, 100: 10}, PINNED, {}, {10: 4.5})
    assert [size.steal_percent for size in summary.sizes] == [4.5, None]


def test_each_app_carries_the_median_of_its_servers_cpu_a_call() -> None:
    runs = {app: [_load(1.0), _load(1.0), _load(1.0)] for app in APPS}
    cpu = {10: {"json": [0.2, 0.9, 0.1], "service": [0.7, 0.6, 0.8]}}
    summary = summarise({10: runs}, {10: 8.0}, {10: 10}, PINNED, {}, None, cpu)
    apps = summary.sizes[0].apps
    assert (apps["json"].server_cpu_ms, apps["service"].server_cpu_ms, apps["orjson"].server_cpu_ms) == (
        0.2,
        0.7,
        None,
    )
