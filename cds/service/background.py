"""Work done after the response, on a thread of its own, from a queue that never grows past its bound.

Offering never blocks: when the queue is full the item is refused and the caller counts the skip, so
a slow consumer costs skipped work, never memory or the caller's time. An item that raises is logged
and dropped; the thread carries on with the next.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from cds.service.logging import get_logger

T = TypeVar("T")

log = get_logger("background")


class BoundedWorker(Generic[T]):
    def __init__(self, name: str, handle: Callable[[T], None], capacity: int) -> None:
        self.name = name
        self._handle = handle
        self._queue: queue.Queue[T | None] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def offer(self, item: T) -> bool:
        """False when the queue is full: the item is not taken."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            return False
        return True

    def wait_idle(self, timeout: float) -> bool:
        """True once every item offered so far is handled; False if that took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def stop(self, timeout: float) -> None:
        """Handles what is queued for at most `timeout` seconds, then leaves the rest (it is after-response
        work: nobody waits for it)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._handle(item)
            except Exception:
                log.exception(
                    "after-response work failed", extra={"fields": {"event": f"{self.name}_failed"}}
                )
            finally:
                self._queue.task_done()
