"""The durable host's own safeguards: sentinel, collisions and retries, and durable's failure modes."""

from collections.abc import Callable, Mapping, Sequence

import pytest

from cds.engine import EngineError
from cds.engine.durable_host import (
    MAX_LEAKED_SESSIONS,
    MAX_SESSION_ATTEMPTS,
    DurableRuleset,
    Firing,
    _Collision,
)

pytestmark = pytest.mark.timeout(60)

KIND_ONE = {"s_kind": 1}


def test_firing_lists_matched_facts_in_pattern_order() -> None:
    ruleset = DurableRuleset([({"s_kind": 1}, {"s_kind": 2})], label="t")

    assert ruleset.run([{"s_kind": 2}, {"s_kind": 1}]) == [Firing(rule=0, facts=(1, 0))]


def test_colliding_fact_ids_are_reported_and_their_session_released(
    run_isolated: Callable[[str], str],
) -> None:
    output = run_isolated(
        """
        from cds.engine.durable_host import DurableRuleset, _Collision
        ruleset = DurableRuleset([({"s_kind": 1},)], label="t")
        for attempt in range(300):
            sid = f"session-{attempt}"
            twins = [{"sid": sid, "id": "same", "s_kind": 1}, {"sid": sid, "id": "same", "s_kind": 1}]
            try:
                ruleset._session(sid, "sentinel", twins)
            except _Collision:
                continue
            raise SystemExit("no collision reported")
        print(ruleset._leaked, len(ruleset._sessions), len(ruleset.run([{"s_kind": 1}])))
        """
    )

    assert output.split() == ["0", "0", "1"]


def test_collision_is_retried_in_a_fresh_session_with_fresh_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="t")
    real_session = ruleset._session
    attempts: list[tuple[str, str, list[object]]] = []

    def collide_once(sid: str, sentinel_id: str, facts: Sequence[Mapping[str, object]]) -> list[Firing]:
        attempts.append((sid, sentinel_id, [fact["id"] for fact in facts]))
        if len(attempts) == 1:
            raise _Collision
        return real_session(sid, sentinel_id, facts)

    monkeypatch.setattr(ruleset, "_session", collide_once)

    assert ruleset.run([KIND_ONE]) == [Firing(rule=0, facts=(0,))]
    (first_sid, first_sentinel, first_ids), (second_sid, second_sentinel, second_ids) = attempts
    assert first_sid != second_sid
    assert first_sentinel != second_sentinel
    assert first_ids != second_ids


def test_repeated_collisions_give_up_with_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="flaky")
    attempts: list[str] = []

    def always_collide(sid: str, sentinel_id: str, facts: Sequence[Mapping[str, object]]) -> list[Firing]:
        attempts.append(sid)
        raise _Collision

    monkeypatch.setattr(ruleset, "_session", always_collide)

    with pytest.raises(EngineError, match="colliding fact ids in 5 fresh sessions of ruleset 'flaky'"):
        ruleset.run([KIND_ONE])
    assert len(set(attempts)) == MAX_SESSION_ATTEMPTS


def test_session_whose_sentinel_did_not_fire_is_never_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="t")
    deleted: list[str] = []
    monkeypatch.setattr(ruleset._host, "assert_fact", lambda name, fact: None)
    monkeypatch.setattr(ruleset._host, "delete_state", lambda name, sid: deleted.append(sid))

    with pytest.raises(EngineError, match="did not run the sentinel action"):
        ruleset.run([KIND_ONE])
    assert deleted == []
    assert ruleset._leaked == 1


def test_ruleset_with_too_many_unreleased_sessions_refuses_work() -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="worn")
    ruleset._leaked = MAX_LEAKED_SESSIONS

    with pytest.raises(EngineError, match="ruleset 'worn' has 64 sessions durable-rules could not release"):
        ruleset.run([KIND_ONE])


def test_durable_fails_on_more_than_64_pending_alpha_tests_and_recovers() -> None:
    siblings = [({"$and": [{"s_kind": 1}, {"$gt": {"n_x": index}}]},) for index in range(65)]
    ruleset = DurableRuleset(siblings, label="t")

    with pytest.raises(EngineError, match="error code: 303"):
        ruleset.run([{"s_kind": 1, "n_x": 1000}])
    assert len(ruleset.run([{"s_kind": 1, "n_x": 3}])) == 3
