"""Work a call leaves for after its answer, done in batches off the request path, with a bound on what waits.

A task per call (Starlette's `BackgroundTask`) keeps the whole finished call alive, its response and
coroutine chain (about 36 KB), until its work is done; once the work runs slower than calls are
answered, the finished calls pile up and memory grows without bound. Here only the item waits, in one
queue of fixed capacity; one consumer hands the items to `process` in batches (one transaction for
many calls, instead of one per call contending for the database's write lock). When the queue is
full, the caller processes its own item before it answers: nothing is dropped, nothing grows without
bound, and an overloaded worker slows its callers down instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from cds.service.logging import get_logger

T = TypeVar("T")

log = get_logger("background")


class BatchQueue(Generic[T]):
    """`process` is blocking (it runs in the thread pool) and must be safe to call from several threads:
    the consumer and an inline fallback may run at once. Its errors are logged with the item count."""

    def __init__(
        self, name: str, process: Callable[[Sequence[T]], None], *, capacity: int, max_batch: int
    ) -> None:
        self.name = name
        self._process = process
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=capacity)
        self._max_batch = max_batch
        self._consumer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the consumer on the running event loop."""
        self._consumer = asyncio.create_task(self._consume(), name=f"batch-queue-{self.name}")

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def offer(self, item: T) -> bool:
        """Queues the item without waiting; False when the queue is full or closed."""
        if self._consumer is None:
            return False
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    async def submit(self, item: T) -> None:
        """Queues the item, or processes it at once (in the thread pool) when the queue is full."""
        if not self.offer(item):
            await run_in_threadpool(self._process_logged, [item])

    async def close(self, timeout: float) -> None:
        """Processes what is queued, waiting at most `timeout` seconds; later items are processed inline."""
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning(
                "shutdown: queued work not done in time",
                extra={
                    "fields": {"event": "batch_queue_abandoned", "queue": self.name, "items": self.waiting}
                },
            )
        consumer.cancel()

    async def _consume(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await run_in_threadpool(self._process_logged, batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _process_logged(self, batch: Sequence[T]) -> None:
        try:
            self._process(batch)
        except Exception as error:
            log.error(
                "queued work failed",
                extra={
                    "fields": {
                        "event": "batch_queue_failed",
                        "queue": self.name,
                        "items": len(batch),
                        "error": type(error).__name__,
                    }
                },
            )
