"""The shadow report: what the candidate would change on real calls, and what clinicians did with the
live cards it would remove."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from cds.cli.feedback import reason_displays
from cds.rulebook import Rulebook
from cds.rulebook.diff import diff_rulebooks
from cds.shadow.report import IndicatorChange, ShadowReport, describe_report, shadow_report
from cds.store import FeedbackRecord, ShadowCard, ShadowPair, ShadowRecord

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
BENIGN, RED_FLAG, WORKUP = "spasm-benign-contributors", "spasm-red-flag", "spasm-electrolyte-workup"


def _live(rule: str, indicator: str, uuid: str) -> ShadowCard:
    return ShadowCard(rule, "1.0.0", indicator, uuid)


def _candidate(rule: str, indicator: str) -> ShadowCard:
    return ShadowCard(rule, "1.0.0", indicator)


def _record(
    n: int,
    live: tuple[ShadowCard, ...],
    candidate: tuple[ShadowCard, ...],
    versions: tuple[str, str] = ("v1", "v2"),
) -> ShadowRecord:
    return ShadowRecord(
        NOW + dt.timedelta(minutes=n), "spasm-patient-view", f"hook-{n}", *versions, live, candidate
    )


def _feedback(card: str, outcome: str, minute: int = 0, reason: str | None = None) -> FeedbackRecord:
    at = NOW + dt.timedelta(hours=1, minutes=minute)
    return FeedbackRecord(
        card_uuid=card,
        service="spasm-patient-view",
        outcome=outcome,
        accepted_suggestions=("s-1",) if outcome == "accepted" else None,
        override_system="urn:spasm-cds:override-reason" if reason else None,
        override_code=reason,
        override_display=reason.replace("_", " ").title() if reason else None,
        override_comment=None,
        outcome_timestamp=at,
        received_at=at,
    )


RECORDS = [
    _record(1, (_live(BENIGN, "info", "u1"),), ()),
    _record(2, (_live(BENIGN, "info", "u2"),), ()),
    _record(3, (_live(BENIGN, "info", "u3"),), ()),
    _record(4, (_live(BENIGN, "info", "u4"),), (_candidate(BENIGN, "info"),)),
    _record(
        5, (_live(RED_FLAG, "warning", "u5"),), (_candidate(RED_FLAG, "warning"), _candidate(WORKUP, "info"))
    ),
    _record(6, (), ()),
]
FEEDBACK = [
    _feedback("u1", "overridden", reason="cause_known"),
    _feedback("u2", "accepted"),
    _feedback("u2", "overridden", minute=5, reason="not_applicable"),
    _feedback("u4", "accepted"),
]


@pytest.fixture(scope="module")
def report() -> ShadowReport:
    return shadow_report(RECORDS, [], FEEDBACK)


def test_calls_are_counted_with_those_where_the_cards_differ(report: ShadowReport) -> None:
    (pair,) = report.pairs
    assert (pair.calls, pair.calls_differing) == (6, 4)
    assert (pair.first_call, pair.last_call) == (RECORDS[0].called_at, RECORDS[-1].called_at)


def test_each_rule_shows_both_sides_card_counts_and_its_own_card_before_and_after(
    report: ShadowReport,
) -> None:
    rows = {row.rule_id: row for row in report.pairs[0].rules}
    assert (rows[BENIGN].live_cards, rows[BENIGN].candidate_cards, rows[BENIGN].calls_differing) == (4, 1, 3)
    assert rows[BENIGN].changes == (IndicatorChange(before="info", after="none", calls=3),)
    assert (rows[WORKUP].live_cards, rows[WORKUP].candidate_cards) == (0, 1)
    assert rows[WORKUP].changes == (IndicatorChange(before="none", after="info", calls=1),)
    assert (rows[RED_FLAG].calls_differing, rows[RED_FLAG].changes) == (0, ())


def test_the_most_urgent_card_per_call_moves_are_counted(report: ShadowReport) -> None:
    assert report.pairs[0].top_changes == (IndicatorChange(before="info", after="none", calls=3),)


def test_removed_live_cards_show_what_clinicians_did_the_last_feedback_counting(report: ShadowReport) -> None:
    (removed,) = report.pairs[0].removed
    assert (removed.rule_id, removed.cards) == (BENIGN, 3)
    assert (removed.accepted, removed.overridden, removed.no_feedback) == (0, 2, 1)
    assert {(r.reason, r.cards) for r in removed.override_reasons} == {
        ("Cause Known", 1),
        ("Not Applicable", 1),
    }


def test_a_reason_sent_as_code_only_is_named_from_the_live_rules(rulebook: Rulebook) -> None:
    code_only = replace(FEEDBACK[0], override_display=None)
    report = shadow_report(RECORDS, [], [code_only], reason_displays=reason_displays(rulebook))
    (removed,) = report.pairs[0].removed
    assert [r.reason for r in removed.override_reasons] == ["Cause already known and being managed"]


def test_a_reason_the_rules_do_not_know_is_shown_by_its_code() -> None:
    unknown = replace(FEEDBACK[0], override_display=None, override_code="retired_reason")
    (removed,) = shadow_report(RECORDS, [], [unknown], reason_displays={}).pairs[0].removed
    assert [r.reason for r in removed.override_reasons] == ["retired_reason"]


def test_cards_the_candidate_would_add_are_counted(report: ShadowReport) -> None:
    assert [(a.rule_id, a.indicator, a.cards) for a in report.pairs[0].added] == [(WORKUP, "info", 1)]


def test_each_pair_of_rules_versions_is_reported_apart_most_recent_first() -> None:
    later = _record(9, (_live(BENIGN, "info", "u9"),), (), versions=("v2", "v3"))
    report = shadow_report([*RECORDS, later], [], [])
    assert [(p.live_rules_version, p.candidate_rules_version, p.calls) for p in report.pairs] == [
        ("v2", "v3", 1),
        ("v1", "v2", 6),
    ]


def test_the_text_names_both_versions_the_diff_and_the_feedback_on_removed_cards(rulebook: Rulebook) -> None:
    diff = diff_rulebooks(rulebook, rulebook).to_json()
    diff["parameters"] = [
        {"name": "magnesium_low_mg_dl", "old": 1.7, "new": 1.5, "old_unit": "mg/dL", "new_unit": "mg/dL",
         "used_by": [BENIGN], "change": "changed"}
    ]  # fmt: skip
    diff["new_version"] = "v2"
    text = describe_report(shadow_report(RECORDS, [ShadowPair("v1", "v2", diff, NOW)], FEEDBACK))
    assert text.startswith("Live rules v1 -> candidate rules v2: 6 calls shadowed")
    assert "~ magnesium_low_mg_dl: 1.7 mg/dL -> 1.5 mg/dL (used by spasm-benign-contributors)" in text
    assert "info -> none: 3" in text
    assert (
        "spasm-benign-contributors: 3 cards: accepted 0, overridden 2 (Cause Known: 1; Not Applicable: 1), "
        "no feedback 1"
    ) in text
    assert "spasm-electrolyte-workup [info]: 1" in text


def test_no_shadowed_calls_is_said_plainly() -> None:
    assert describe_report(shadow_report([], [], [])).startswith("No shadowed calls")
