"""What every store does, whichever database keeps the data."""

from __future__ import annotations

import datetime as dt

from cds.store import AuditRecord, FeedbackRecord, IssuedCard, ReasonCount, Store

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _card(uuid: str, rule: str = "rule-a", at: dt.datetime = NOW, rules: str = "rules-v1") -> IssuedCard:
    return IssuedCard(uuid, rule, "1.0.0", rules, "warning", "hook-1", "svc", at)


def _feedback(
    card: str, outcome: str = "overridden", at: dt.datetime = NOW, code: str = "known"
) -> FeedbackRecord:
    overridden = outcome == "overridden"
    return FeedbackRecord(
        card_uuid=card,
        service="svc",
        outcome=outcome,
        accepted_suggestions=None if overridden else ("s-1",),
        override_system="urn:reasons" if overridden else None,
        override_code=code if overridden else None,
        override_display=code.title() if overridden else None,
        override_comment=None,
        outcome_timestamp=at,
        received_at=at,
    )


def _call(
    patient: str, user: str = "Practitioner/1", at: dt.datetime = NOW, rules: tuple[str, ...] = ("rule-a",)
) -> AuditRecord:
    return AuditRecord(at, "https://ehr.example.org", user, patient, "hook-1", "svc", "rules-v1", rules)


def test_a_jwt_id_is_accepted_once(store: Store) -> None:
    expires = NOW.timestamp() + 300
    assert [store.first_use("iss", "j-1", expires), store.first_use("iss", "j-1", expires)] == [True, False]


def test_the_same_jwt_id_from_another_issuer_is_another_token(store: Store) -> None:
    expires = NOW.timestamp() + 300
    assert store.first_use("iss-a", "j-1", expires) and store.first_use("iss-b", "j-1", expires)


def test_feedback_is_counted_against_the_rule_that_issued_the_card(store: Store) -> None:
    store.record_cards([_card("c-1"), _card("c-2"), _card("c-3", rule="rule-b")])
    store.record_feedback(
        [_feedback("c-1", "accepted"), _feedback("c-1"), _feedback("c-2"), _feedback("c-2", code="other")]
    )
    report = {(r.rule_id, r.rule_version): r for r in store.report()}
    rule_a = report[("rule-a", "1.0.0")]
    assert rule_a.rules_version == "rules-v1"
    assert (rule_a.issued, rule_a.accepted, rule_a.overridden) == (2, 1, 3)
    assert rule_a.override_reasons == (
        ReasonCount("urn:reasons", "known", "Known", 2),
        ReasonCount("urn:reasons", "other", "Other", 1),
    )
    assert (report[("rule-b", "1.0.0")].issued, report[("rule-b", "1.0.0")].overridden) == (1, 0)


def test_feedback_before_and_after_a_rules_change_is_never_lumped_together(store: Store) -> None:
    """A threshold change keeps the rule's id and version but changes the rules version (content hash)."""
    store.record_cards([_card("before", rules="rules-v1"), _card("after", at=NOW + DAY, rules="rules-v2")])
    store.record_feedback([_feedback("before"), _feedback("after", "accepted"), _feedback("after")])
    report = store.report()
    assert [
        (r.rules_version, r.rule_id, r.rule_version, r.issued, r.accepted, r.overridden) for r in report
    ] == [
        ("rules-v1", "rule-a", "1.0.0", 1, 0, 1),
        ("rules-v2", "rule-a", "1.0.0", 1, 1, 1),
    ]


def test_rules_versions_are_reported_in_the_order_they_were_first_used(store: Store) -> None:
    store.record_cards(
        [
            _card("z-1", rules="a-later", at=NOW + 2 * DAY),
            _card("z-2", rules="a-later", at=NOW + 3 * DAY),
            _card("a-1", rules="z-earlier", at=NOW),
            _card("a-2", rules="z-earlier", rule="rule-b", at=NOW + DAY),
        ]
    )
    store.record_feedback([_feedback("never-issued")])
    report = store.report()
    assert [(r.rules_version, r.rule_id) for r in report] == [
        ("z-earlier", "rule-a"),
        ("z-earlier", "rule-b"),
        ("a-later", "rule-a"),
        (None, None),
    ]
    assert (report[2].first_issued, report[2].last_issued) == (NOW + 2 * DAY, NOW + 3 * DAY)


def test_feedback_about_an_unknown_card_is_reported_apart(store: Store) -> None:
    store.record_feedback([_feedback("never-issued")])
    assert [(r.rule_id, r.overridden) for r in store.report()] == [(None, 1)]


def test_a_card_recorded_twice_is_issued_once(store: Store) -> None:
    store.record_cards([_card("c-1")])
    store.record_cards([_card("c-1")])
    assert [r.issued for r in store.report()] == [1]


def test_the_audit_trail_answers_who_was_shown_what_about_whom(store: Store) -> None:
    store.record_calls([_call("pat-2", at=NOW + 2 * DAY, rules=())])
    store.record_calls(
        [_call("pat-1", user="Practitioner/9", rules=("rule-a", "rule-b")), _call("pat-1", at=NOW + DAY)]
    )
    about_pat_1 = store.calls(patient_id="pat-1")
    assert [(c.user_id, c.rule_ids, c.called_at) for c in about_pat_1] == [
        ("Practitioner/9", ("rule-a", "rule-b"), NOW),
        ("Practitioner/1", ("rule-a",), NOW + DAY),
    ]
    assert [c.patient_id for c in store.calls(user_id="Practitioner/1")] == ["pat-1", "pat-2"]
    assert store.calls(patient_id="pat-2") == [_call("pat-2", at=NOW + 2 * DAY, rules=())]


def test_calls_recorded_with_their_cards_are_in_the_trail_and_their_cards_issued(store: Store) -> None:
    store.record_calls(
        [_call("pat-1"), _call("pat-2")], [_card("c-1"), _card("c-2"), _card("c-3", rule="rule-b")]
    )
    assert [c.patient_id for c in store.calls()] == ["pat-1", "pat-2"]
    assert [(r.rule_id, r.issued) for r in store.report()] == [("rule-a", 2), ("rule-b", 1)]


def test_a_purge_removes_what_is_past_retention_and_keeps_the_rest(store: Store) -> None:
    old, recent = NOW - 400 * DAY, NOW - 10 * DAY
    store.record_cards([_card("old", at=old), _card("recent", at=recent)])
    store.record_feedback([_feedback("old", at=old), _feedback("recent", at=recent)])
    store.record_calls([_call("pat-old", at=old), _call("pat-recent", at=recent)])
    store.first_use("iss", "expired", NOW.timestamp() - 1)
    store.first_use("iss", "live", NOW.timestamp() + 60)
    purged = store.purge(NOW, 365 * DAY)
    assert (purged.issued_cards, purged.feedback, purged.audit, purged.replay_ids) == (1, 1, 1, 1)
    assert [(r.issued, r.overridden) for r in store.report()] == [(1, 1)]
    assert [c.patient_id for c in store.calls()] == ["pat-recent"]
    assert store.first_use("iss", "live", NOW.timestamp() + 60) is False


def test_a_reachable_store_answers_a_ping(store: Store) -> None:
    store.ping()
