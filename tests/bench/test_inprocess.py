"""In process: every size is warmed before any is timed."""

from cds.bench.inprocess import warm_up
from cds.bench.workload import BenchRequest


def _requests(size: int, count: int) -> list[BenchRequest]:
    return [
        BenchRequest(resources=size, scenario="none", patient_id="p", body=f"{size}-{i}".encode())
        for i in range(count)
    ]


def test_warm_up_passes_over_every_body_of_every_size_each_round() -> None:
    seen: list[bytes] = []

    warm_up(seen.append, [_requests(10, 2), _requests(100, 3)], rounds=2)

    assert seen == [b"10-0", b"10-1", b"100-0", b"100-1", b"100-2"] * 2
