"""Where the service keeps what must outlive a request: issued cards, feedback, used JWT ids, the audit trail,
shadow results.

`open_store(url)` gives the SQL store (SQLite file or PostgreSQL, migrated to this code's schema);
`MemoryStore` keeps everything in the process. Both meet the `Store` protocol.
"""

from cds.store.memory import MemoryStore
from cds.store.protocols import (
    AuditTrail,
    Feedback,
    IssuedCards,
    ReplayCache,
    ShadowResults,
    Store,
    StoreUnavailable,
)
from cds.store.records import (
    AuditRecord,
    FeedbackRecord,
    IssuedCard,
    Purged,
    ReasonCount,
    RuleReport,
    ShadowCard,
    ShadowPair,
    ShadowRecord,
)
from cds.store.sql import SqlStore


def open_store(url: str) -> SqlStore:
    """Raises StoreUnavailable naming the database (never its password) and what is wrong."""
    return SqlStore.open(url)


__all__ = [
    "AuditRecord",
    "AuditTrail",
    "Feedback",
    "FeedbackRecord",
    "IssuedCard",
    "IssuedCards",
    "MemoryStore",
    "Purged",
    "ReasonCount",
    "ReplayCache",
    "RuleReport",
    "ShadowCard",
    "ShadowPair",
    "ShadowRecord",
    "ShadowResults",
    "SqlStore",
    "Store",
    "StoreUnavailable",
    "open_store",
]
