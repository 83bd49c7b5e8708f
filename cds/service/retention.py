"""Retention: records older than `retention_days` are purged by each worker on its own, every
`purge_interval_seconds` and once at start; JWT ids go as soon as their token has expired.

Every worker and instance purges; the deletes are idempotent, so overlapping purges only repeat work.
A purge that fails (database away) is logged and tried again at the next interval.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from starlette.concurrency import run_in_threadpool

from cds.service.logging import get_logger
from cds.store import Purged, Store

log = get_logger("retention")


async def purge_periodically(store: Store, keep: dt.timedelta, interval: float) -> None:
    """Runs until cancelled."""
    while True:
        try:
            purged = await run_in_threadpool(store.purge, dt.datetime.now(dt.UTC), keep)
        except Exception as error:
            log.warning(
                "purge failed; retried later",
                extra={"fields": {"event": "purge_failed", "error": type(error).__name__}},
            )
        else:
            _log(purged)
        await asyncio.sleep(interval)


def _log(purged: Purged) -> None:
    fields = {"event": "purged", **vars(purged)}
    log.info("records past retention purged", extra={"fields": fields})
