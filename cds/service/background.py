"""Work done after the response, on a thread of its own, from a queue that never grows past its bound.

A task per call (Starlette's `BackgroundTask`) keeps the whole finished call alive, its response and
coroutine chain (about 36 KB measured), until its work is done; once that work runs slower than calls
are answered, finished calls pile up and memory grows without bound. Here only the item waits, and
only up to `capacity`. The thread hands items to `handle` in batches of up to `max_batch` (the audit
trail writes one transaction for many calls, instead of one per call contending for the database's
write lock). With a `linger`, the thread waits that long after the first item of a batch for others to
join it: calls arrive a few milliseconds apart, and a transaction per call costs more than one per few
calls (on SQLite, 0.17 ms of CPU for one call, 0.22 ms for three, 0.78 ms for twenty, measured). With
a `fill`, the wait ends as soon as that many items are waiting, which bounds the batch, and so how
long its handling runs beside the caller's thread. A stop ends the wait at once.

The thread keeps the process's scheduling priority. At nice 19 the loop got a shared core sooner (10
resources, one worker on one core, concurrency 1: p50 0.685 -> 0.601 ms), but in `make bench` the two
workers' memory then grew from 265 MB to 5.5-7.6 GB over 100,000 calls at concurrency 16, in 3 runs of
3 (1.6 % at the default priority), and 2 workers against 1 fell to 1.65-1.80x: most likely a writer
that seldom gets the core holds the audit's locks (its own, SQLite's write lock) while finished calls
wait behind them. Not reproduced outside `make bench` (30,000 and 100,000 calls: 1.3-1.8 %).

When the queue is full, `offer` refuses the item (shadow evaluations count the skip: a slow consumer
costs skipped work, never memory or the caller's time) and `submit` handles it in the caller's turn
instead (audit records: nothing is lost, and an overloaded worker slows its callers instead of
growing). A batch that raises is logged and dropped; the thread carries on with the next.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from cds.service.logging import get_logger

T = TypeVar("T")

log = get_logger("background")


class BoundedWorker(Generic[T]):
    """`handle` runs on the worker's thread, and for `submit`'s overflow in the thread pool too, so it
    must be safe to call from two threads at once."""

    def __init__(
        self,
        name: str,
        handle: Callable[[Sequence[T]], None],
        capacity: int,
        *,
        max_batch: int = 1,
        linger: float = 0.0,
        fill: int = 0,
    ) -> None:
        self.name = name
        self._handle = handle
        self._max_batch = max_batch
        self._linger = linger
        self._fill = fill
        self._queue: queue.Queue[T | None] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        """Ends a linger early: set by a stop, or when `fill` items are waiting."""

    def start(self) -> None:
        self._stopping.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def offer(self, item: T) -> bool:
        """False when the queue is full: the item is not taken."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            return False
        if self._fill and self._queue.qsize() >= self._fill:
            self._ready.set()
        return True

    async def submit(self, item: T) -> None:
        """Queues the item, or handles it now (in the thread pool) when the queue is full."""
        if not self.offer(item):
            await run_in_threadpool(self._handle_logged, [item])

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
        """Handles what is queued for at most `timeout` seconds, then leaves the rest (logged)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        self._ready.set()
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        else:
            thread.join(timeout)
        if thread.is_alive():
            log.warning(
                "stopping: queued work left undone",
                extra={"fields": {"event": f"{self.name}_abandoned", "items": self.waiting}},
            )

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [] if first is None else [first]
            stopping = first is None
            if not stopping and self._linger:
                self._ready.wait(self._linger)
                self._ready.clear()
                if self._stopping.is_set():
                    self._ready.set()
            while not stopping and len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                else:
                    batch.append(item)
            try:
                if batch:
                    self._handle_logged(batch)
            finally:
                for _ in range(len(batch) + stopping):
                    self._queue.task_done()
            if stopping:
                return

    def _handle_logged(self, batch: Sequence[T]) -> None:
        try:
            self._handle(batch)
        except Exception:
            log.exception(
                "after-response work failed",
                extra={"fields": {"event": f"{self.name}_failed", "items": len(batch)}},
            )
