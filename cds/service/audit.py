"""The audit trail: who was shown what, about whom.

Every hook call answered leaves one record in the store (never in the operational log): when, the
calling EHR (JWT `iss`), `userId`, the patient id, `hookInstance`, the service, the rules version and
the rule ids of the cards returned, none when there were none. The cards themselves are recorded
beside it for feedback. Both are written after the response is sent, so they cost the caller no
latency; a process crash in that instant can lose the last call's records.
"""

from __future__ import annotations

from collections.abc import Sequence

from cds.store import AuditRecord, IssuedCard, Store


def remember_call(store: Store, call: AuditRecord, cards: Sequence[IssuedCard]) -> None:
    store.record_call(call)
    store.record_cards(cards)
