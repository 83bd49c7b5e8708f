"""What clinicians did with the cards, kept so rule authors can see which rules help and which get overridden.

SQLite in WAL mode inside the data directory, shared by every worker process. Feedback is committed
with synchronous=FULL before the 200 goes out, so an acknowledged entry survives a crash or a power
cut. Issued cards are recorded with synchronous=NORMAL after the response is sent: a process crash
loses none of them, a power cut might lose the last few, and feedback about such a card is still kept
(it shows as "not issued by this service" in the report).

Cards are remembered by uuid, rule, rule version, rules version, hook instance, service and time; no
clinical value is stored. Each feedback entry is its own row, so a card accepted and later overridden
counts as two events.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Self

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, model_validator

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS issued_card (
        uuid TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        rule_version TEXT NOT NULL,
        rules_version TEXT NOT NULL,
        indicator TEXT NOT NULL,
        hook_instance TEXT NOT NULL,
        service TEXT NOT NULL,
        issued_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        card_uuid TEXT NOT NULL,
        service TEXT NOT NULL,
        outcome TEXT NOT NULL,
        accepted_suggestions TEXT,
        override_system TEXT,
        override_code TEXT,
        override_display TEXT,
        override_comment TEXT,
        outcome_timestamp TEXT NOT NULL,
        received_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS feedback_card ON feedback (card_uuid)",
)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FeedbackCoding(_Lenient):
    system: StrictStr
    code: StrictStr
    display: StrictStr | None = None


class OverrideReason(_Lenient):
    reason: FeedbackCoding | None = None
    userComment: StrictStr | None = None


class AcceptedSuggestion(_Lenient):
    id: StrictStr


class FeedbackEntry(_Lenient):
    card: Annotated[StrictStr, Field(min_length=1)]
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: AwareDatetime
    acceptedSuggestions: tuple[AcceptedSuggestion, ...] | None = None
    overrideReason: OverrideReason | None = None

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> Self:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self


class FeedbackRequest(_Lenient):
    feedback: Annotated[tuple[FeedbackEntry, ...], Field(min_length=1)]


@dataclass(frozen=True)
class IssuedCard:
    uuid: str
    rule_id: str
    rule_version: str
    rules_version: str
    indicator: str
    hook_instance: str
    service: str
    issued_at: dt.datetime


@dataclass(frozen=True)
class ReasonCount:
    system: str | None
    code: str | None
    display: str | None
    count: int


@dataclass(frozen=True)
class RuleReport:
    """One rule version; rule_id None gathers feedback about cards this store never saw issued."""

    rule_id: str | None
    rule_version: str | None
    issued: int
    accepted: int
    overridden: int
    override_reasons: tuple[ReasonCount, ...]


class _Connection:
    """One SQLite connection per process and durability level, used from worker threads one at a time."""

    def __init__(self, path: Path, synchronous: Literal["FULL", "NORMAL"]) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._durable = _Connection(path, "FULL")
        self._cards = _Connection(path, "NORMAL")
        with self._durable.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    def record_cards(self, cards: Iterable[IssuedCard]) -> None:
        rows = [
            (
                c.uuid,
                c.rule_id,
                c.rule_version,
                c.rules_version,
                c.indicator,
                c.hook_instance,
                c.service,
                _iso(c.issued_at),
            )
            for c in cards
        ]
        if not rows:
            return
        with self._cards.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO issued_card VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def record_feedback(self, service: str, entries: Sequence[FeedbackEntry]) -> None:
        """Returns only once the entries are on disk (fsync), so a 200 can be sent."""
        received = _iso(dt.datetime.now(dt.UTC))
        rows = [_feedback_row(service, entry, received) for entry in entries]
        with self._durable.transaction() as db:
            db.executemany(
                "INSERT INTO feedback (card_uuid, service, outcome, accepted_suggestions, override_system, "
                "override_code, override_display, override_comment, outcome_timestamp, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def report(self) -> list[RuleReport]:
        with self._durable.reading() as db:
            issued = db.execute(
                "SELECT rule_id, rule_version, count(*) FROM issued_card GROUP BY rule_id, rule_version"
            ).fetchall()
            outcomes = db.execute(
                "SELECT c.rule_id, c.rule_version, f.outcome, count(*) FROM feedback f "
                "LEFT JOIN issued_card c ON c.uuid = f.card_uuid GROUP BY 1, 2, 3"
            ).fetchall()
            reasons = db.execute(
                "SELECT c.rule_id, c.rule_version, f.override_system, f.override_code, f.override_display, "
                "count(*) FROM feedback f LEFT JOIN issued_card c ON c.uuid = f.card_uuid "
                "WHERE f.outcome = 'overridden' GROUP BY 1, 2, 3, 4, 5 ORDER BY 6 DESC, 4"
            ).fetchall()
        return _assemble(issued, outcomes, reasons)

    def close(self) -> None:
        self._durable.close()
        self._cards.close()


def _feedback_row(service: str, entry: FeedbackEntry, received: str) -> tuple[str | None, ...]:
    override = entry.overrideReason
    coding = override.reason if override is not None else None
    accepted = (
        orjson.dumps([s.id for s in entry.acceptedSuggestions]).decode()
        if entry.acceptedSuggestions
        else None
    )
    return (
        entry.card,
        service,
        entry.outcome,
        accepted,
        coding.system if coding else None,
        coding.code if coding else None,
        coding.display if coding else None,
        override.userComment if override else None,
        _iso(entry.outcomeTimestamp),
        received,
    )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


RuleKey = tuple[str | None, str | None]


def _assemble(
    issued: list[tuple[str | None, str | None, int]],
    outcomes: list[tuple[str | None, str | None, str, int]],
    reasons: list[tuple[str | None, str | None, str | None, str | None, str | None, int]],
) -> list[RuleReport]:
    counts: dict[RuleKey, dict[str, int]] = {}
    for rule_id, version, count in issued:
        counts.setdefault((rule_id, version), {})["issued"] = count
    for rule_id, version, outcome, count in outcomes:
        counts.setdefault((rule_id, version), {})[outcome] = count
    by_rule: dict[RuleKey, list[ReasonCount]] = {}
    for rule_id, version, system, code, display, count in reasons:
        by_rule.setdefault((rule_id, version), []).append(ReasonCount(system, code, display, count))
    return [
        RuleReport(
            rule_id=key[0],
            rule_version=key[1],
            issued=tally.get("issued", 0),
            accepted=tally.get("accepted", 0),
            overridden=tally.get("overridden", 0),
            override_reasons=tuple(by_rule.get(key, ())),
        )
        for key, tally in sorted(
            counts.items(), key=lambda item: (item[0][0] is None, item[0][0] or "", item[0][1] or "")
        )
    ]
