"""What the candidate rules would do to today's real calls, from the shadow records: the report a CDS
committee reads before a change goes live.

Per pair of rules versions (live, candidate): what differs between the rule sets, per rule the cards
each side gave and the calls where they differ, how the most urgent card of a call would move, what
clinicians did with the live cards the candidate would remove, and the cards it would add. Pure: it
reads records, pairs and feedback, and touches nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cds.frozen import Frozen
from cds.rulebook.diff import RulesDiff, describe
from cds.shadow.compare import INDICATORS, differs, rule_indicator, top_indicator
from cds.store import FeedbackRecord, ShadowPair, ShadowRecord

NO_FEEDBACK = "no feedback"


class IndicatorChange(Frozen):
    before: str
    after: str
    calls: int


class RuleRow(Frozen):
    rule_id: str
    live_cards: int
    candidate_cards: int
    calls_differing: int
    """Calls where the rule's card is on one side only, or has another indicator."""
    changes: tuple[IndicatorChange, ...]
    """The rule's own card, before -> after (`none`: no card from this rule), where it differs."""


class ReasonCount(Frozen):
    reason: str
    cards: int


class RemovedCards(Frozen):
    """Live cards of one rule that the candidate would not give, and what clinicians did with them (the
    last feedback on each card counts: accepted then overridden is overridden)."""

    rule_id: str
    cards: int
    accepted: int
    overridden: int
    no_feedback: int
    override_reasons: tuple[ReasonCount, ...]


class AddedCards(Frozen):
    rule_id: str
    indicator: str
    cards: int


class PairReport(Frozen):
    live_rules_version: str
    candidate_rules_version: str
    diff: dict[str, Any] | None
    """`cds.rulebook.diff` as JSON, recorded when the pair was first shadowed."""
    calls: int
    calls_differing: int
    first_call: dt.datetime
    last_call: dt.datetime
    rules: tuple[RuleRow, ...]
    top_indicator: tuple[IndicatorChange, ...]
    """Calls by most urgent card, live -> candidate, every combination seen (unchanged ones too)."""
    removed: tuple[RemovedCards, ...]
    added: tuple[AddedCards, ...]

    @property
    def top_changes(self) -> tuple[IndicatorChange, ...]:
        return tuple(change for change in self.top_indicator if change.before != change.after)


class ShadowReport(Frozen):
    since: dt.datetime | None
    pairs: tuple[PairReport, ...]
    """Most recently shadowed first."""


def shadow_report(
    records: Sequence[ShadowRecord],
    pairs: Iterable[ShadowPair],
    feedback: Iterable[FeedbackRecord],
    *,
    since: dt.datetime | None = None,
    reason_displays: Mapping[tuple[str, str], str] | None = None,
) -> ShadowReport:
    """`reason_displays` (by system and code, from the live rules) names the override reasons a client
    sent as code only, as `cds feedback report` does."""
    diffs = {(p.live_rules_version, p.candidate_rules_version): p.diff for p in pairs}
    outcome = _last_outcomes(feedback)
    grouped: dict[tuple[str, str], list[ShadowRecord]] = {}
    for record in records:
        grouped.setdefault((record.live_rules_version, record.candidate_rules_version), []).append(record)
    displays = reason_displays or {}
    reports = [_pair(key, calls, diffs.get(key), outcome, displays) for key, calls in grouped.items()]
    reports.sort(key=lambda report: report.last_call, reverse=True)
    return ShadowReport(since=since, pairs=tuple(reports))


def live_card_uuids(records: Iterable[ShadowRecord]) -> list[str]:
    """The uuids whose feedback the report needs."""
    return [card.uuid for record in records for card in record.live_cards if card.uuid is not None]


def _last_outcomes(feedback: Iterable[FeedbackRecord]) -> dict[str, FeedbackRecord]:
    latest: dict[str, FeedbackRecord] = {}
    for entry in sorted(feedback, key=lambda e: (e.outcome_timestamp, e.received_at)):
        latest[entry.card_uuid] = entry
    return latest


def _pair(
    key: tuple[str, str],
    calls: list[ShadowRecord],
    diff: dict[str, Any] | None,
    outcome: dict[str, FeedbackRecord],
    displays: Mapping[tuple[str, str], str],
) -> PairReport:
    rule_ids = sorted({card.rule_id for r in calls for card in (*r.live_cards, *r.candidate_cards)})
    tops = Counter((top_indicator(r.live_cards), top_indicator(r.candidate_cards)) for r in calls)
    return PairReport(
        live_rules_version=key[0],
        candidate_rules_version=key[1],
        diff=diff,
        calls=len(calls),
        calls_differing=sum(differs(r) for r in calls),
        first_call=min(r.called_at for r in calls),
        last_call=max(r.called_at for r in calls),
        rules=tuple(_rule_row(rule_id, calls) for rule_id in rule_ids),
        top_indicator=_changes(tops),
        removed=tuple(
            _removed(rule_id, calls, outcome, displays)
            for rule_id in rule_ids
            if _removed_cards(rule_id, calls)
        ),
        added=_added(calls),
    )


def _rule_row(rule_id: str, calls: list[ShadowRecord]) -> RuleRow:
    moves = Counter(
        (rule_indicator(r.live_cards, rule_id), rule_indicator(r.candidate_cards, rule_id)) for r in calls
    )
    changes = Counter({move: n for move, n in moves.items() if move[0] != move[1]})
    return RuleRow(
        rule_id=rule_id,
        live_cards=sum(card.rule_id == rule_id for r in calls for card in r.live_cards),
        candidate_cards=sum(card.rule_id == rule_id for r in calls for card in r.candidate_cards),
        calls_differing=sum(changes.values()),
        changes=_changes(changes),
    )


def _changes(moves: Counter[tuple[str, str]]) -> tuple[IndicatorChange, ...]:
    """Most urgent before first, then most urgent after."""
    order = sorted(moves, key=lambda move: (-INDICATORS.index(move[0]), -INDICATORS.index(move[1])))
    return tuple(
        IndicatorChange(before=before, after=after, calls=moves[(before, after)]) for before, after in order
    )


def _removed_cards(rule_id: str, calls: list[ShadowRecord]) -> list[str | None]:
    return [
        card.uuid
        for r in calls
        if not any(c.rule_id == rule_id for c in r.candidate_cards)
        for card in r.live_cards
        if card.rule_id == rule_id
    ]


def _removed(
    rule_id: str,
    calls: list[ShadowRecord],
    outcome: dict[str, FeedbackRecord],
    displays: Mapping[tuple[str, str], str],
) -> RemovedCards:
    done = Counter[str]()
    reasons = Counter[str]()
    for uuid in _removed_cards(rule_id, calls):
        entry = outcome.get(uuid) if uuid is not None else None
        done[entry.outcome if entry else NO_FEEDBACK] += 1
        if entry is not None and entry.outcome == "overridden":
            reasons[_reason_label(entry, displays)] += 1
    return RemovedCards(
        rule_id=rule_id,
        cards=sum(done.values()),
        accepted=done["accepted"],
        overridden=done["overridden"],
        no_feedback=done[NO_FEEDBACK],
        override_reasons=tuple(ReasonCount(reason=r, cards=n) for r, n in reasons.most_common()),
    )


def _reason_label(entry: FeedbackRecord, displays: Mapping[tuple[str, str], str]) -> str:
    if entry.override_display:
        return entry.override_display
    key = (entry.override_system, entry.override_code)
    if key[0] is not None and key[1] is not None and key in displays:
        return displays[key[0], key[1]]
    return entry.override_code or "(no reason given)"


def _added(calls: list[ShadowRecord]) -> tuple[AddedCards, ...]:
    added = Counter(
        (card.rule_id, card.indicator)
        for r in calls
        for card in r.candidate_cards
        if not any(c.rule_id == card.rule_id for c in r.live_cards)
    )
    return tuple(
        AddedCards(rule_id=rule, indicator=indicator, cards=n)
        for (rule, indicator), n in sorted(added.items())
    )


# --- in words -------------------------------------------------------------------------------------


def describe_report(report: ShadowReport) -> str:
    if not report.pairs:
        since = f" since {report.since.isoformat()}" if report.since else ""
        return f"No shadowed calls{since}: is `cds serve --shadow-rules DIR` running?"
    return "\n\n".join(_describe_pair(pair) for pair in report.pairs)


def _describe_pair(pair: PairReport) -> str:
    lines = [
        f"Live rules {pair.live_rules_version} -> candidate rules {pair.candidate_rules_version}: "
        f"{pair.calls} calls shadowed ({pair.first_call:%Y-%m-%d %H:%M} to "
        f"{pair.last_call:%Y-%m-%d %H:%M} UTC), {pair.calls_differing} where the cards differ",
        "",
        "What changed:",
    ]
    if pair.diff is None:
        lines.append("  (the diff of this pair was not recorded)")
    else:
        lines += ["  " + line for line in describe(RulesDiff.from_json(pair.diff)).splitlines()[1:]]
    lines += [
        "",
        "Per rule:",
        f"  {'rule':<28}{'live':>5}{'candidate':>11}{'differing':>11}  this rule's card, before -> after",
    ]
    for row in pair.rules:
        moves = ", ".join(f"{c.before} -> {c.after}: {c.calls}" for c in row.changes) or "-"
        counts = f"{row.live_cards:>5}{row.candidate_cards:>11}{row.calls_differing:>11}"
        lines.append(f"  {row.rule_id:<28}{counts}  {moves}")
    lines += ["", "Most urgent card per call, before -> after:"]
    lines += [f"  {c.before} -> {c.after}: {c.calls}" for c in pair.top_changes] or ["  no change"]
    lines += ["", "Live cards the candidate would remove, and what clinicians did with them:"]
    for removed in pair.removed:
        reasons = "; ".join(f"{r.reason}: {r.cards}" for r in removed.override_reasons)
        overridden = f"overridden {removed.overridden}" + (f" ({reasons})" if reasons else "")
        lines.append(
            f"  {removed.rule_id}: {removed.cards} cards: accepted {removed.accepted}, {overridden}, "
            f"no feedback {removed.no_feedback}"
        )
    if not pair.removed:
        lines.append("  none")
    lines += ["", "Cards the candidate would add:"]
    lines += [f"  {a.rule_id} [{a.indicator}]: {a.cards}" for a in pair.added] or ["  none"]
    return "\n".join(lines)
