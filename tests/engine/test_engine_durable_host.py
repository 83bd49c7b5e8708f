"""The durable host's own safeguards: sentinel, collisions and retries, and durable's failure modes."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
import pytest

from cds.engine import EngineError, durable_host
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
        print(ruleset._leaked, len(ruleset.run([{"s_kind": 1}])))
        """
    )

    assert output.split() == ["0", "1"]


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
    monkeypatch.setattr(
        durable_host.durable_rules_engine, "start_action_for_state", lambda handle, state: None
    )
    monkeypatch.setattr(
        durable_host.durable_rules_engine, "delete_state", lambda handle, sid: deleted.append(sid)
    )

    with pytest.raises(EngineError, match="did not run the sentinel action"):
        ruleset.run([KIND_ONE])
    assert deleted == []
    assert ruleset._leaked == 1


def test_batch_refused_as_already_observed_fires_its_sentinel_before_its_session_is_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="t")
    deletions = watch_deletions(ruleset, monkeypatch)
    twins = [{"sid": "twins", "id": "same", "s_kind": 1}, {"sid": "twins", "id": "same", "s_kind": 1}]

    with pytest.raises(_Collision):
        ruleset._session("twins", "s-twins", twins)
    assert deletions == [("twins", True)]
    assert ruleset._leaked == 0


def test_collision_retry_deletes_every_attempt_only_after_an_action_fired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="t")
    deletions = watch_deletions(ruleset, monkeypatch)
    refuse_first_batch_as(durable_host._OBSERVED, monkeypatch)

    assert ruleset.run([KIND_ONE]) == [Firing(rule=0, facts=(0,))]
    assert [fired for _, fired in deletions] == [True, True]
    assert len({sid for sid, _ in deletions}) == 2


def test_batch_refused_as_not_handled_fails_the_call_after_its_sentinel_fired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="strict")
    deletions = watch_deletions(ruleset, monkeypatch)
    refuse_first_batch_as(durable_host._NOT_HANDLED, monkeypatch)

    with pytest.raises(EngineError, match="did not handle a fact of ruleset 'strict'"):
        ruleset.run([KIND_ONE])
    assert [fired for _, fired in deletions] == [True]
    assert ruleset._leaked == 0


def test_fact_durable_fails_on_part_way_through_a_batch_still_lets_its_session_be_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    siblings = [({"$and": [{"s_kind": 1}, {"$gt": {"n_x": index}}]},) for index in range(65)]
    ruleset = DurableRuleset(siblings, label="t")
    deletions = watch_deletions(ruleset, monkeypatch)

    with pytest.raises(EngineError, match="error code: 303"):
        ruleset.run([{"s_kind": 1, "n_x": 1000}])
    assert [fired for _, fired in deletions] == [True]
    assert ruleset._leaked == 0


def watch_deletions(ruleset: DurableRuleset, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each session durable is then asked to delete, with whether an action had fired in it by then
    (an action's matched facts carry their session's sid)."""
    fired: set[str] = set()
    deletions: list[tuple[str, bool]] = []
    for name, action in list(ruleset._actions.items()):

        def watched(session: Any, matched: Mapping[str, Any], _action: Any = action) -> None:
            fired.add(next(iter(matched.values()))["sid"])
            _action(session, matched)

        ruleset._actions[name] = watched
    real_delete = durable_host.durable_rules_engine.delete_state

    def delete(handle: int, sid: str) -> object:
        deletions.append((sid, sid in fired))
        return real_delete(handle, sid)

    monkeypatch.setattr(durable_host.durable_rules_engine, "delete_state", delete)
    return deletions


def refuse_first_batch_as(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """durable asserts the first batch as usual but reports `status` for it, as it does when one of its
    facts collides (already observed) or no rule takes it (not handled); later batches are untouched."""
    real_assert = durable_host.durable_rules_engine.assert_facts
    batches: list[str] = []

    def assert_facts(handle: int, text: str) -> tuple[int, int]:
        batches.append(text)
        real_status, state = real_assert(handle, text)
        return (status if len(batches) == 1 else real_status), state

    monkeypatch.setattr(durable_host.durable_rules_engine, "assert_facts", assert_facts)


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


def test_sessions_make_the_calls_durables_own_python_layer_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same C calls, same order, same JSON (handles aside) as durable's `Host` for the same session, but
    for `update_state` after each action (the unchanged state written back); the text is written without
    spaces, as durable's Node.js layer sends it (`JSON.stringify`)."""
    from durable.engine import Host

    class TimerlessHost(Host):  # type: ignore[misc]
        def _run(self) -> None:
            """No dispatch threads, as the notes require."""

    calls: list[tuple[str, tuple[object, ...]]] = []
    for name in TRACED:
        real = getattr(durable_host.durable_rules_engine, name)

        def traced(first: object, *args: object, _real: Any = real, _name: str = name) -> object:
            calls.append((_name, args))
            return _real(first, *args)

        monkeypatch.setattr(durable_host.durable_rules_engine, name, traced)
    rules = [({"s_kind": 1},), ({"s_kind": 1}, {"s_kind": 2})]
    facts = [{"s_kind": 2, "sid": "x", "id": "0-a"}, {"s_kind": 1, "sid": "x", "id": "1-a"}]
    ours = DurableRuleset(rules, label="t")

    firings = ours._session("x", "s-a", facts)
    ours_calls, calls[:] = calls[:], []
    host = TimerlessHost()
    host.register_rulesets({"theirs": durable_definition(rules)})
    host.assert_facts("theirs", [{"sid": "x", "id": "s-a", "sentinel": 1}, *facts])
    host.delete_state("theirs", "x")

    assert firings == [Firing(rule=0, facts=(1,)), Firing(rule=1, facts=(1, 0))]
    assert [name for name, _ in ours_calls].count("complete_and_start_action") == 3
    theirs = [(name, args) for name, args in calls if name != "update_state"]
    assert [name for name, _ in calls].count("update_state") == 3
    assert as_json_values(without_state_handles(ours_calls)) == as_json_values(without_state_handles(theirs))
    sent = [args[0] for name, args in ours_calls if name == "assert_facts"]
    assert len(sent) == 1
    assert all(text == orjson.dumps(orjson.loads(text)).decode() for text in sent)


TRACED = (
    "create_ruleset",
    "assert_fact",
    "assert_facts",
    "start_action_for_state",
    "update_state",
    "complete_and_start_action",
    "abandon_action",
    "delete_state",
)


def durable_definition(rules: Sequence[Sequence[Mapping[str, object]]]) -> dict[str, object]:
    """Our ruleset as durable's Python layer takes it: rules with a `run` action each."""

    def action(c: object) -> None:
        """Nothing to do: the test compares the calls made, not results."""

    definition: dict[str, object] = {
        "sentinel": {"all": [{"m": {"sentinel": 1}}], "run": action},
        "sink": {"all": [{"a": {"$ex": {"id": 1}}}, {"b": {"$ex": {"sink": 1}}}], "run": action},
    }
    for index, patterns in enumerate(rules):
        aliased = [{f"m_{position}": dict(cond)} for position, cond in enumerate(patterns)]
        definition[f"r{index}"] = {"all": aliased, "run": action}
    return definition


def as_json_values(calls: list[tuple[str, tuple[object, ...]]]) -> list[tuple[str, tuple[object, ...]]]:
    """The calls with each JSON text argument read."""
    return [
        (
            name,
            tuple(
                orjson.loads(arg) if isinstance(arg, str) and arg.startswith(("[", "{")) else arg
                for arg in args
            ),
        )
        for name, args in calls
    ]


def without_state_handles(
    calls: list[tuple[str, tuple[object, ...]]],
) -> list[tuple[str, tuple[object, ...]]]:
    """The calls with the state handles durable returned left out (the ruleset name is in neither)."""
    kept = []
    for name, args in calls:
        if name in {"start_action_for_state", "complete_and_start_action", "abandon_action"}:
            args = ()
        kept.append((name, args))
    return kept


def test_action_that_cannot_read_its_message_fails_the_call_but_completes_the_session() -> None:
    ruleset = DurableRuleset([(KIND_ONE,)], label="odd")

    def unreadable(session: object, matched: Mapping[str, object]) -> None:
        raise KeyError("m_0")

    ruleset._actions["r0"] = unreadable

    with pytest.raises(EngineError, match="sent an action of ruleset 'odd' a message it cannot read"):
        ruleset.run([KIND_ONE, KIND_ONE])
    assert ruleset._leaked == 0
