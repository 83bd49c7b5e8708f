"""The bounded batch queue for after-response work: nothing lost, nothing unbounded, flushed on shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from cds.service.background import BatchQueue


class Recorder:
    """A `process` that records each batch; while `hold` is clear, it blocks until released."""

    def __init__(self, *, held: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.threads: list[int] = []
        self.hold = threading.Event()
        self.entered = threading.Event()
        if not held:
            self.hold.set()

    def __call__(self, batch: Sequence[int]) -> None:
        self.entered.set()
        self.hold.wait(10)
        self.batches.append(list(batch))

    @property
    def items(self) -> list[int]:
        return [item for batch in self.batches for item in batch]


async def _until(condition: threading.Event) -> None:
    while not condition.is_set():
        await asyncio.sleep(0.001)


def test_a_burst_loses_nothing_and_writes_in_batches() -> None:
    recorder = Recorder()

    async def burst() -> None:
        queue = BatchQueue("test", recorder, capacity=16, max_batch=8)
        queue.start()
        await asyncio.gather(*(queue.submit(i) for i in range(500)))
        await queue.close(timeout=10)

    asyncio.run(burst())
    assert sorted(recorder.items) == list(range(500))
    assert len(recorder.batches) < 500
    assert max(len(batch) for batch in recorder.batches) <= 8


def test_a_full_queue_processes_the_item_before_submit_returns() -> None:
    recorder = Recorder(held=True)

    async def overflow() -> tuple[list[bool], list[list[int]]]:
        queue = BatchQueue("test", recorder, capacity=3, max_batch=10)
        queue.start()
        assert queue.offer(0)
        await _until(recorder.entered)  # the consumer holds item 0; the queue is empty again
        accepted = [queue.offer(i) for i in (1, 2, 3, 4)]
        recorder.hold.set()
        await queue.submit(5)
        done_when_submitted = list(recorder.batches)
        await queue.close(timeout=10)
        return accepted, done_when_submitted

    accepted, done_when_submitted = asyncio.run(overflow())
    assert accepted == [True, True, True, False]
    assert [5] in done_when_submitted
    assert sorted(recorder.items) == [0, 1, 2, 3, 5]


def test_what_waits_never_exceeds_the_capacity() -> None:
    recorder = Recorder(held=True)

    async def fill() -> int:
        queue = BatchQueue("test", recorder, capacity=5, max_batch=2)
        queue.start()
        for i in range(50):
            queue.offer(i)
        most = queue.waiting
        recorder.hold.set()
        await queue.close(timeout=10)
        return most

    assert asyncio.run(fill()) <= 5


def test_closing_flushes_everything_queued() -> None:
    recorder = Recorder(held=True)

    async def shutdown() -> None:
        queue = BatchQueue("test", recorder, capacity=100, max_batch=4)
        queue.start()
        for i in range(40):
            assert queue.offer(i)
        recorder.hold.set()
        await queue.close(timeout=10)

    asyncio.run(shutdown())
    assert sorted(recorder.items) == list(range(40))


def test_after_closing_items_are_processed_inline() -> None:
    recorder = Recorder()

    async def late() -> None:
        queue = BatchQueue("test", recorder, capacity=4, max_batch=4)
        queue.start()
        await queue.close(timeout=10)
        assert not queue.offer(1)
        await queue.submit(2)

    asyncio.run(late())
    assert recorder.batches == [[2]]


def test_a_failing_batch_is_logged_and_later_items_still_processed(caplog: pytest.LogCaptureFixture) -> None:
    done: list[int] = []

    def process(batch: Sequence[int]) -> None:
        if 0 in batch:
            raise RuntimeError("database gone")
        done.extend(batch)

    async def run() -> None:
        queue = BatchQueue("test", process, capacity=2, max_batch=1)
        queue.start()
        assert queue.offer(0) and queue.offer(1)
        await queue.close(timeout=10)

    asyncio.run(run())
    assert done == [1]
    failures = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "batch_queue_failed"]
    assert failures and failures[0].fields["items"] == 1  # type: ignore[attr-defined]
