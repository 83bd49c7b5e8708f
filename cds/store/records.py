"""What the store keeps: plain records, free of HTTP and of any database, so every backend shares them.

No clinical value is ever stored: cards are remembered by uuid, rule and version; the audit trail names
the patient and user by id only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
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
    """One rule version under one rules version, so feedback from before and after a change stays apart.

    rule_id None (and rules_version None) gathers feedback about cards this store never saw issued.
    """

    rules_version: str | None
    rule_id: str | None
    rule_version: str | None
    issued: int
    accepted: int
    overridden: int
    override_reasons: tuple[ReasonCount, ...]
    first_issued: dt.datetime | None
    last_issued: dt.datetime | None

    def with_reason_displays(self, displays: Mapping[tuple[str, str], str]) -> RuleReport:
        """Fills in the display of reasons a client sent as system and code only, from (system, code)."""
        reasons = tuple(
            replace(reason, display=displays.get((reason.system, reason.code)))
            if reason.display is None and reason.system is not None and reason.code is not None
            else reason
            for reason in self.override_reasons
        )
        return replace(self, override_reasons=reasons)


@dataclass(frozen=True)
class Purged:
    """Rows removed by one purge, per kind."""

    issued_cards: int
    feedback: int
    audit: int
    replay_ids: int
    shadow_calls: int = 0


ReportKey = tuple[str | None, str | None, str | None]
"""rules version, rule id, rule version."""
IssuedRow = tuple[str | None, str | None, str | None, int, dt.datetime | None, dt.datetime | None]
"""The key, cards issued, first and last issue time."""
OutcomeRow = tuple[str | None, str | None, str | None, str, int]
ReasonRow = tuple[str | None, str | None, str | None, str | None, str | None, str | None, int]


def assemble_report(
    issued: Iterable[IssuedRow], outcomes: Iterable[OutcomeRow], reasons: Iterable[ReasonRow]
) -> list[RuleReport]:
    """The report from grouped counts, in one place for every backend.

    Rules versions come in the order they were first used, so a change reads as before and after;
    cards never issued here come last; most frequent reasons first.
    """
    counts: dict[ReportKey, dict[str, int]] = {}
    spans: dict[ReportKey, tuple[dt.datetime | None, dt.datetime | None]] = {}
    for rules_version, rule_id, version, count, first, last in issued:
        counts.setdefault((rules_version, rule_id, version), {})["issued"] = count
        spans[(rules_version, rule_id, version)] = (first, last)
    for rules_version, rule_id, version, outcome, count in outcomes:
        counts.setdefault((rules_version, rule_id, version), {})[outcome] = count
    by_key: dict[ReportKey, list[ReasonCount]] = {}
    for *key, system, code, display, count in sorted(reasons, key=lambda r: (-r[6], r[4] or "")):
        by_key.setdefault((key[0], key[1], key[2]), []).append(ReasonCount(system, code, display, count))
    since: dict[str | None, dt.datetime] = {}
    for (rules_version, _, _), (first, _) in spans.items():
        if first is not None and (rules_version not in since or first < since[rules_version]):
            since[rules_version] = first
    never = dt.datetime.max.replace(tzinfo=dt.UTC)

    def order(key: ReportKey) -> tuple[bool, dt.datetime, str, str, str]:
        rules_version, rule_id, version = key
        return (
            rule_id is None,
            since.get(rules_version, never),
            rules_version or "",
            rule_id or "",
            version or "",
        )

    return [
        RuleReport(
            rules_version=key[0],
            rule_id=key[1],
            rule_version=key[2],
            issued=counts[key].get("issued", 0),
            accepted=counts[key].get("accepted", 0),
            overridden=counts[key].get("overridden", 0),
            override_reasons=tuple(by_key.get(key, ())),
            first_issued=spans.get(key, (None, None))[0],
            last_issued=spans.get(key, (None, None))[1],
        )
        for key in sorted(counts, key=order)
    ]
