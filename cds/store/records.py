"""What the store keeps: plain records, free of HTTP and of any database, so every backend shares them.

No clinical value is ever stored: cards are remembered by uuid, rule and version; the audit trail names
the patient and user by id only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


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
class FeedbackRecord:
    """One feedback entry as received; a card accepted and later overridden is two records."""

    card_uuid: str
    service: str
    outcome: str
    accepted_suggestions: tuple[str, ...] | None
    override_system: str | None
    override_code: str | None
    override_display: str | None
    override_comment: str | None
    outcome_timestamp: dt.datetime
    received_at: dt.datetime


@dataclass(frozen=True)
class AuditRecord:
    """One hook call: who was shown which rules' cards, about which patient, under which rules version."""

    called_at: dt.datetime
    issuer: str | None
    """The JWT's iss; None when the service runs without auth (loopback development only)."""
    user_id: str
    patient_id: str
    hook_instance: str
    service: str
    rules_version: str
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class ShadowCard:
    """A card one side of a shadowed call gave; `uuid` only on the live side, where it was sent."""

    rule_id: str
    rule_version: str
    indicator: str
    uuid: str | None = None


@dataclass(frozen=True)
class ShadowRecord:
    """One hook call evaluated again with candidate rules after the live answer was sent."""

    called_at: dt.datetime
    service: str
    hook_instance: str
    live_rules_version: str
    candidate_rules_version: str
    live_cards: tuple[ShadowCard, ...]
    candidate_cards: tuple[ShadowCard, ...]


@dataclass(frozen=True)
class ShadowPair:
    """What differs between a live and a candidate rules version (`cds.rulebook.diff` as JSON), kept
    once per pair, so the shadow report can say what changed after both rule sets are gone."""

    live_rules_version: str
    candidate_rules_version: str
    diff: dict[str, Any]
    recorded_at: dt.datetime


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


@dataclass(frozen=True)
class Purged:
    """Rows removed by one purge, per kind."""

    issued_cards: int
    feedback: int
    audit: int
    replay_ids: int
    shadow_calls: int = 0


RuleKey = tuple[str | None, str | None]
IssuedRow = tuple[str | None, str | None, int]
OutcomeRow = tuple[str | None, str | None, str, int]
ReasonRow = tuple[str | None, str | None, str | None, str | None, str | None, int]


def assemble_report(
    issued: Iterable[IssuedRow], outcomes: Iterable[OutcomeRow], reasons: Iterable[ReasonRow]
) -> list[RuleReport]:
    """The report from grouped counts, in one place for every backend; most frequent reasons first."""
    counts: dict[RuleKey, dict[str, int]] = {}
    for rule_id, version, count in issued:
        counts.setdefault((rule_id, version), {})["issued"] = count
    for rule_id, version, outcome, count in outcomes:
        counts.setdefault((rule_id, version), {})[outcome] = count
    by_rule: dict[RuleKey, list[ReasonCount]] = {}
    for rule_id, version, system, code, display, count in sorted(reasons, key=lambda r: (-r[5], r[3] or "")):
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
