"""A store in the process: the seam's reference behaviour, for tests and for library use without a database.

Nothing survives the process and nothing is shared between processes, so `cds serve` never uses it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence

from cds.store.records import (
    AuditRecord,
    FeedbackRecord,
    IssuedCard,
    Purged,
    ReportKey,
    RuleReport,
    ShadowPair,
    ShadowRecord,
    assemble_report,
)


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cards: dict[str, IssuedCard] = {}
        self._feedback: list[FeedbackRecord] = []
        self._calls: list[AuditRecord] = []
        self._jti: dict[tuple[str, str], float] = {}
        self._shadow: list[ShadowRecord] = []
        self._pairs: dict[tuple[str, str], ShadowPair] = {}

    def record_cards(self, cards: Sequence[IssuedCard]) -> None:
        with self._lock:
            for card in cards:
                self._cards.setdefault(card.uuid, card)

    def record_feedback(self, entries: Sequence[FeedbackRecord]) -> None:
        with self._lock:
            self._feedback.extend(entries)

    def report(self) -> list[RuleReport]:
        with self._lock:
            issued: dict[ReportKey, list[dt.datetime]] = {}
            for card in self._cards.values():
                issued.setdefault(_key(card), []).append(card.issued_at)
            outcomes: Counter[tuple[str | None, str | None, str | None, str]] = Counter()
            reasons: Counter[ReasonKey] = Counter()
            for entry in self._feedback:
                key = _key(self._cards.get(entry.card_uuid))
                outcomes[(*key, entry.outcome)] += 1
                if entry.outcome == "overridden":
                    reasons[(*key, entry.override_system, entry.override_code, entry.override_display)] += 1
        return assemble_report(
            [(*key, len(times), min(times), max(times)) for key, times in issued.items()],
            [(*key, n) for key, n in outcomes.items()],
            [(*key, n) for key, n in reasons.items()],
        )

    def first_use(self, iss: str, jti: str, expires: float) -> bool:
        with self._lock:
            if (iss, jti) in self._jti:
                return False
            self._jti[(iss, jti)] = expires
            return True

    def record_calls(self, calls: Sequence[AuditRecord], cards: Sequence[IssuedCard] = ()) -> None:
        with self._lock:
            self._calls.extend(calls)
        self.record_cards(cards)

    def calls(self, *, patient_id: str | None = None, user_id: str | None = None) -> list[AuditRecord]:
        with self._lock:
            return [
                call
                for call in sorted(self._calls, key=lambda c: c.called_at)
                if (patient_id is None or call.patient_id == patient_id)
                and (user_id is None or call.user_id == user_id)
            ]

    def record_shadow(self, record: ShadowRecord) -> None:
        with self._lock:
            self._shadow.append(record)

    def record_shadow_pair(self, pair: ShadowPair) -> None:
        with self._lock:
            self._pairs.setdefault((pair.live_rules_version, pair.candidate_rules_version), pair)

    def shadow_calls(self, *, since: dt.datetime | None = None) -> list[ShadowRecord]:
        with self._lock:
            return [
                record
                for record in sorted(self._shadow, key=lambda r: r.called_at)
                if since is None or record.called_at >= since
            ]

    def shadow_pairs(self) -> list[ShadowPair]:
        with self._lock:
            return sorted(self._pairs.values(), key=lambda pair: pair.recorded_at)

    def feedback_on(self, card_uuids: Sequence[str]) -> list[FeedbackRecord]:
        wanted = set(card_uuids)
        with self._lock:
            return [entry for entry in self._feedback if entry.card_uuid in wanted]

    def ping(self) -> None:
        return None

    def purge(self, now: dt.datetime, keep: dt.timedelta) -> Purged:
        cutoff = now - keep
        epoch = now.timestamp()
        with self._lock:
            old_cards = [uuid for uuid, card in self._cards.items() if card.issued_at < cutoff]
            for uuid in old_cards:
                del self._cards[uuid]
            feedback = [entry for entry in self._feedback if entry.received_at >= cutoff]
            calls = [call for call in self._calls if call.called_at >= cutoff]
            expired = [key for key, expires in self._jti.items() if expires < epoch]
            shadow = [record for record in self._shadow if record.called_at >= cutoff]
            referred = {(r.live_rules_version, r.candidate_rules_version) for r in shadow}
            self._pairs = {
                key: pair
                for key, pair in self._pairs.items()
                if pair.recorded_at >= cutoff or key in referred
            }
            for key in expired:
                del self._jti[key]
            purged = Purged(
                issued_cards=len(old_cards),
                feedback=len(self._feedback) - len(feedback),
                audit=len(self._calls) - len(calls),
                replay_ids=len(expired),
                shadow_calls=len(self._shadow) - len(shadow),
            )
            self._feedback, self._calls, self._shadow = feedback, calls, shadow
        return purged

    def close(self) -> None:
        return None


ReasonKey = tuple[str | None, str | None, str | None, str | None, str | None, str | None]


def _key(card: IssuedCard | None) -> ReportKey:
    return (card.rules_version, card.rule_id, card.rule_version) if card else (None, None, None)
