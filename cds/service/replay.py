"""JWT ids already used, kept in the store so a token replayed to another worker or instance is caught too.

An id is kept until its token expires plus the clock skew (a token is accepted that long), then the
retention purge removes it. The store is asked from the thread pool: with PostgreSQL it is a network
round trip, which must not hold up the event loop.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from cds.store import ReplayCache


class ReplayGuard:
    def __init__(self, cache: ReplayCache, keep_after_expiry: float) -> None:
        self.cache = cache
        self.keep_after_expiry = keep_after_expiry

    async def first_use(self, iss: str, jti: str, expires: float) -> bool:
        """Records the id; False when a token with the same iss and jti was already accepted."""
        return await run_in_threadpool(self.cache.first_use, iss, jti, expires + self.keep_after_expiry)
