"""After-response work waits in a bounded queue on a thread of its own: never blocks, never grows."""

from __future__ import annotations

import threading

from cds.service.background import BoundedWorker


def test_an_item_beyond_the_bound_is_refused() -> None:
    worker: BoundedWorker[int] = BoundedWorker("test", lambda item: None, capacity=2)
    assert [worker.offer(n) for n in range(3)] == [True, True, False]


def test_an_item_that_raises_does_not_stop_the_items_after_it() -> None:
    handled: list[int] = []

    def handle(item: int) -> None:
        if item == 1:
            raise ValueError("boom")
        handled.append(item)

    worker: BoundedWorker[int] = BoundedWorker("test", handle, capacity=10)
    worker.start()
    for n in range(3):
        worker.offer(n)
    assert worker.wait_idle(10.0)
    worker.stop(10.0)
    assert handled == [0, 2]


def test_waiting_for_idle_gives_up_after_its_timeout() -> None:
    release = threading.Event()
    worker: BoundedWorker[int] = BoundedWorker("test", lambda item: release.wait(10.0) and None, capacity=1)
    worker.start()
    worker.offer(1)
    assert worker.wait_idle(0.05) is False
    release.set()
    assert worker.wait_idle(10.0)
    worker.stop(10.0)
