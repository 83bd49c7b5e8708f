"""The storage seam: what the service needs from a store, whatever keeps the data.

`SqlStore` keeps it in SQLite (the embedded default) or PostgreSQL (several instances sharing one
truth); `MemoryStore` keeps it in the process, for tests and library use. Every method is blocking
and thread-safe: the service calls them from its thread pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from cds.errors import CdsError
from cds.store.records import (
    AuditRecord,
    FeedbackRecord,
    IssuedCard,
    Purged,
    RuleReport,
    ShadowPair,
    ShadowRecord,
)


class StoreUnavailable(CdsError, RuntimeError):
    """The database cannot be reached or used; the message names it, never its password."""


class IssuedCards(Protocol):
    def record_cards(self, cards: Sequence[IssuedCard]) -> None:
        """Remembers cards sent, so feedback about them can be tied to their rule and version."""


class Feedback(Protocol):
    def record_feedback(self, entries: Sequence[FeedbackRecord]) -> None:
        """Returns only once the entries are durable, so a 200 can be sent."""

    def report(self) -> list[RuleReport]:
        """Issued, accepted and overridden counts and override reasons per rule version."""


class ReplayCache(Protocol):
    def first_use(self, iss: str, jti: str, expires: float) -> bool:
        """Records a JWT id until `expires` (epoch seconds); False when it was already used."""


class AuditTrail(Protocol):
    def record_calls(self, calls: Sequence[AuditRecord], cards: Sequence[IssuedCard] = ()) -> None:
        """One record per hook call answered, and the cards those calls issued (as `record_cards`); many
        calls and their cards are one transaction."""

    def calls(self, *, patient_id: str | None = None, user_id: str | None = None) -> list[AuditRecord]:
        """Who was shown what, about whom: calls recorded, oldest first, for one patient or user if given."""


class ShadowResults(Protocol):
    def record_shadow(self, record: ShadowRecord) -> None:
        """One record per shadowed call (no clinical value: rule ids, indicators, live card uuids)."""

    def record_shadow_pair(self, pair: ShadowPair) -> None:
        """Keeps the diff of a live and candidate rules version; a pair already kept is left as it is."""

    def shadow_calls(self, *, since: dt.datetime | None = None) -> list[ShadowRecord]:
        """Shadowed calls, oldest first, from `since` on if given."""

    def shadow_pairs(self) -> list[ShadowPair]: ...

    def feedback_on(self, card_uuids: Sequence[str]) -> list[FeedbackRecord]:
        """Every feedback entry about these cards, in the order received."""


class Store(IssuedCards, Feedback, ReplayCache, AuditTrail, ShadowResults, Protocol):
    def ping(self) -> None:
        """Raises StoreUnavailable unless the database answers."""

    def purge(self, now: dt.datetime, keep: dt.timedelta) -> Purged:
        """Deletes cards, feedback, audit and shadow records older than `keep`, replay ids already expired,
        and rule-set pairs no shadow record refers to any more."""

    def close(self) -> None: ...
