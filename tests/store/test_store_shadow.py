"""What every store keeps of shadow mode, whichever database keeps the data."""

from __future__ import annotations

import datetime as dt

from cds.store import FeedbackRecord, ShadowCard, ShadowPair, ShadowRecord, Store

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _record(at: dt.datetime = NOW, hook: str = "hook-1", candidate: str = "rules-v2") -> ShadowRecord:
    return ShadowRecord(
        called_at=at,
        service="spasm-patient-view",
        hook_instance=hook,
        live_rules_version="rules-v1",
        candidate_rules_version=candidate,
        live_cards=(
            ShadowCard("spasm-red-flag", "1.0.0", "warning", "uuid-1"),
            ShadowCard("spasm-benign-contributors", "1.0.0", "info", "uuid-2"),
        ),
        candidate_cards=(ShadowCard("spasm-red-flag", "1.1.0", "warning"),),
    )


def _pair(at: dt.datetime = NOW, candidate: str = "rules-v2") -> ShadowPair:
    return ShadowPair("rules-v1", candidate, {"parameters": [{"name": "magnesium_low_mg_dl"}]}, at)


def _overridden(card: str, at: dt.datetime = NOW) -> FeedbackRecord:
    return FeedbackRecord(
        card, "svc", "overridden", None, "urn:r", "cause_known", "Cause known", None, at, at
    )


def test_a_shadowed_call_is_kept_with_the_cards_of_both_sides(store: Store) -> None:
    store.record_shadow(_record())
    assert store.shadow_calls() == [_record()]


def test_a_call_where_neither_side_gave_a_card_is_kept_too(store: Store) -> None:
    empty = ShadowRecord(NOW, "spasm-patient-view", "hook-1", "rules-v1", "rules-v2", (), ())
    store.record_shadow(empty)
    assert store.shadow_calls() == [empty]


def test_shadowed_calls_since_a_moment_leave_out_older_ones(store: Store) -> None:
    store.record_shadow(_record(NOW - 2 * DAY, hook="old"))
    store.record_shadow(_record(NOW, hook="new"))
    assert [r.hook_instance for r in store.shadow_calls(since=NOW - DAY)] == ["new"]
    assert [r.hook_instance for r in store.shadow_calls()] == ["old", "new"]


def test_a_rule_set_pair_is_kept_once_with_its_diff(store: Store) -> None:
    store.record_shadow_pair(_pair())
    store.record_shadow_pair(ShadowPair("rules-v1", "rules-v2", {"other": 1}, NOW + DAY))
    assert store.shadow_pairs() == [_pair()]


def test_feedback_on_cards_is_found_by_their_uuids(store: Store) -> None:
    store.record_feedback([_overridden("uuid-1"), _overridden("uuid-9"), _overridden("uuid-1", NOW + DAY)])
    found = store.feedback_on(["uuid-1", "uuid-2"])
    assert [(entry.card_uuid, entry.received_at) for entry in found] == [
        ("uuid-1", NOW),
        ("uuid-1", NOW + DAY),
    ]
    assert found[0] == _overridden("uuid-1")


def test_a_purge_removes_shadow_records_past_retention_and_pairs_no_record_needs(store: Store) -> None:
    old = NOW - 400 * DAY
    store.record_shadow(_record(old, hook="old", candidate="rules-old"))
    store.record_shadow(_record(NOW - DAY, hook="recent"))
    store.record_shadow_pair(_pair(old, candidate="rules-old"))
    store.record_shadow_pair(_pair(old))
    store.record_shadow_pair(_pair(NOW, candidate="rules-unused-yet"))
    purged = store.purge(NOW, 365 * DAY)
    assert purged.shadow_calls == 1
    assert [r.hook_instance for r in store.shadow_calls()] == ["recent"]
    assert sorted(p.candidate_rules_version for p in store.shadow_pairs()) == ["rules-unused-yet", "rules-v2"]
