"""After-response work waits in a bounded queue on a thread of its own: never grows past its bound,
loses nothing it took, hands work over in batches, and is flushed on stop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from cds.service.background import BoundedWorker


class Recorder:
    """A `handle` that records each batch. While `hold` is clear, the worker's own thread (the first to
    call) blocks until released; a batch handled inline, on another thread, never waits."""

    def __init__(self, *, held: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.hold = threading.Event()
        self.entered = threading.Event()
        self._worker_thread: int | None = None
        if not held:
            self.hold.set()

    def __call__(self, batch: Sequence[int]) -> None:
        if self._worker_thread is None:
            self._worker_thread = threading.get_ident()
        self.entered.set()
        if threading.get_ident() == self._worker_thread:
            self.hold.wait(10)
        self.batches.append(list(batch))

    @property
    def items(self) -> list[int]:
        return [item for batch in self.batches for item in batch]


def test_an_item_beyond_the_bound_is_refused() -> None:
    recorder = Recorder(held=True)
    worker: BoundedWorker[int] = BoundedWorker("test", recorder, capacity=2)
    worker.start()
    assert worker.offer(0)
    assert recorder.entered.wait(10)  # the thread holds item 0; two places are free
    assert [worker.offer(n) for n in (1, 2, 3)] == [True, True, False]
    recorder.hold.set()
    worker.stop(10.0)
    assert recorder.items == [0, 1, 2]


def test_an_item_that_raises_does_not_stop_the_items_after_it(caplog: pytest.LogCaptureFixture) -> None:
    handled: list[int] = []

    def handle(batch: Sequence[int]) -> None:
        if 1 in batch:
            raise ValueError("boom")
        handled.extend(batch)

    worker: BoundedWorker[int] = BoundedWorker("test", handle, capacity=10)
    worker.start()
    for n in range(3):
        worker.offer(n)
    assert worker.wait_idle(10.0)
    worker.stop(10.0)
    assert handled == [0, 2]
    failures = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "test_failed"]
    assert [r.fields["items"] for r in failures] == [1]  # type: ignore[attr-defined]


def test_waiting_for_idle_gives_up_after_its_timeout() -> None:
    release = threading.Event()
    worker: BoundedWorker[int] = BoundedWorker("test", lambda batch: release.wait(10.0) and None, capacity=1)
    worker.start()
    worker.offer(1)
    assert worker.wait_idle(0.05) is False
    release.set()
    assert worker.wait_idle(10.0)
    worker.stop(10.0)


def test_a_burst_loses_nothing_and_is_handled_in_batches() -> None:
    recorder = Recorder()
    worker: BoundedWorker[int] = BoundedWorker("test", recorder, capacity=16, max_batch=8)
    worker.start()

    async def burst() -> None:
        await asyncio.gather(*(worker.submit(i) for i in range(500)))

    asyncio.run(burst())
    worker.stop(10.0)
    assert sorted(recorder.items) == list(range(500))
    assert len(recorder.batches) < 500
    assert max(len(batch) for batch in recorder.batches) <= 8


def test_submitting_to_a_full_queue_handles_the_item_before_returning() -> None:
    recorder = Recorder(held=True)
    worker: BoundedWorker[int] = BoundedWorker("test", recorder, capacity=3, max_batch=10)
    worker.start()
    assert worker.offer(0)
    assert recorder.entered.wait(10)  # the thread holds item 0; the queue is empty again
    assert [worker.offer(i) for i in (1, 2, 3, 4)] == [True, True, True, False]
    asyncio.run(worker.submit(5))
    done_when_submitted = list(recorder.batches)
    recorder.hold.set()
    worker.stop(10.0)
    assert [5] in done_when_submitted
    assert sorted(recorder.items) == [0, 1, 2, 3, 5]


def test_what_waits_never_exceeds_the_capacity() -> None:
    recorder = Recorder(held=True)
    worker: BoundedWorker[int] = BoundedWorker("test", recorder, capacity=5, max_batch=2)
    worker.start()
    for i in range(50):
        worker.offer(i)
    most = worker.waiting
    recorder.hold.set()
    worker.stop(10.0)
    assert most <= 5


def test_stopping_handles_everything_queued() -> None:
    recorder = Recorder(held=True)
    worker: BoundedWorker[int] = BoundedWorker("test", recorder, capacity=100, max_batch=4)
    worker.start()
    for i in range(40):
        assert worker.offer(i)
    recorder.hold.set()
    worker.stop(10.0)
    assert sorted(recorder.items) == list(range(40))


def test_items_arriving_while_the_first_lingers_share_its_batch() -> None:
    recorder = Recorder()
    worker: BoundedWorker[int] = BoundedWorker("test", recorder, capacity=16, max_batch=8, linger=0.3)
    worker.start()
    for i in range(5):
        assert worker.offer(i)
    assert worker.wait_idle(10.0)
    worker.stop(10.0)
    assert recorder.batches == [[0, 1, 2, 3, 4]]


def test_a_lingering_batch_is_handed_over_as_soon_as_fill_items_wait() -> None:
    recorder = Recorder()
    worker: BoundedWorker[int] = BoundedWorker(
        "test", recorder, capacity=16, max_batch=8, linger=600.0, fill=3
    )
    worker.start()
    for i in range(3):
        assert worker.offer(i)
    assert worker.wait_idle(10.0)
    worker.stop(10.0)
    assert recorder.batches == [[0, 1, 2]]


def test_stopping_writes_a_lingering_batch_at_once() -> None:
    recorder = Recorder()
    worker: BoundedWorker[int] = BoundedWorker("test", recorder, capacity=16, max_batch=8, linger=600.0)
    worker.start()
    assert worker.offer(7)
    worker.stop(10.0)
    assert recorder.items == [7]
