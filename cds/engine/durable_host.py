"""The walled-off durable-rules host: the only module in the project that imports durable.

Every workaround from shared/reference/durable-rules-notes.md lives here:
- no background timer threads: durable's Python `Host` starts them (they race sessions and steal pending
  actions), so the ruleset is driven through durable's C module directly, with the calls durable's
  Python layer makes for a synchronous action (assert, start the action, complete it and start the
  next), in the same order and with the same JSON, minus its per-action objects, clock reads and JSON
  round trips (measured: about half of a session's cost), and minus the update of the session state
  after each action: it retracts the state fact and asserts it again, and our actions never change the
  state and no rule reads it (about 6 µs an action). The JSON is written without spaces,
  as durable's Node.js layer sends it (`JSON.stringify`), by orjson: `json.dumps` took 14 µs of a
  4-fact batch, orjson 1 µs;
- one process-wide lock around every call into the C engine: its handle table is global, and actions call
  back into Python in the middle of a C call, where another thread could otherwise enter it. C calls hold
  the GIL, so a lock per ruleset would buy no throughput;
- a session's batch starts with a sentinel fact that a sentinel rule fires on, because deleting a session
  in which no action fired frees uninitialised memory (its action context: valgrind shows
  `deleteStateNode` branching on it). The actions a batch queued are run whatever durable says of the
  batch, so a batch refused as "already observed" or "not handled" fires its sentinel before its session
  is deleted; after a batch durable failed part way, a second sentinel is asserted alone to fire them. A
  session whose sentinel did not fire is left alive instead of deleted, and a ruleset that has left too
  many alive refuses more work, well before durable's limit of 1024 live sessions;
- a sink rule (two patterns, the second unsatisfiable) makes every fact "handled", so a fact no rule
  matches cannot abort the batch;
- each attempt has a fresh sid and freshly salted fact ids: durable identifies a fact by a 32-bit hash of
  its id, and a collision between distinct facts surfaces as "already observed", which is retried;
- results are recorded in a Python list per session, never in the durable session state.
"""

import contextlib
import copy
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import durable_rules_engine
import orjson

from cds.errors import EngineError

Condition = Mapping[str, object]
"""A durable JSON condition over one fact, e.g. {"$and": [{"s_kind": 3}, {"$gt": {"n_dose": 5}}]}."""

MAX_PATTERNS_PER_RULE = 8
"""durable fails with error 304 at 17 patterns in one rule."""
MAX_ALPHA_TESTS = 400
"""durable hangs at 512 alpha tests in one ruleset; the sentinel and sink rules use 3 more."""
MAX_PATTERN_BRANCHES = 200
"""durable fails with error 108 once about 256 patterns hang off one alpha test."""
MAX_PATTERN_MARKERS = 30
"""durable fails with error 113 once one pattern's condition holds 32 `$and`/`$or` entries (it keeps
an opening and a closing one for each)."""
MAX_PENDING_ALPHA_TESTS = 48
"""durable fails with error 303 when one fact leaves more than 64 alpha tests pending at once."""
MAX_FACT_PROPERTIES = 200
"""durable segfaults at 253 top-level properties of one fact; sid and id are added to what is given."""
MAX_SESSION_ATTEMPTS = 5
MAX_LEAKED_SESSIONS = 64

_SENTINEL = "sentinel"
_SINK = "sink"
_NOT_HANDLED, _OBSERVED, _NO_STATE = 1, 2, 3
"""The status codes of durable's assert calls (as its Python layer reads them)."""
_LOCK = threading.Lock()
_ruleset_numbers = itertools.count(1)
_attempts = itertools.count(1)
"""Numbers each session attempt in the process: its sid and the salt of its fact ids."""


def condition_markers(condition: object) -> int:
    """The `$and`/`$or` opening and closing entries durable keeps for one pattern's condition, to be
    held within `MAX_PATTERN_MARKERS`."""
    if isinstance(condition, dict):
        own = sum(2 for key in condition if key in ("$and", "$or"))
        return own + sum(condition_markers(value) for value in condition.values())
    if isinstance(condition, list):
        return sum(condition_markers(item) for item in condition)
    return 0


def _to_json(message: object) -> str:
    """The JSON text durable's C calls take (they refuse bytes)."""
    return orjson.dumps(message).decode()


class Firing(NamedTuple):
    """One rule activation as durable reported it."""

    rule: int
    """Index of the rule in the sequence the ruleset was built from."""
    facts: tuple[int, ...]
    """Index of the matched fact for each pattern, in pattern order."""


class _Collision(Exception):
    """durable mistook two distinct facts of one session for the same fact."""


@dataclass
class _Session:
    sentinel_fired: bool = False
    firings: list[Firing] = field(default_factory=list)
    failed: bool = False
    """An action got a message it could not read; the session still completes every action."""


Action = Callable[[_Session, Mapping[str, Any]], None]
"""What a rule's firing does with its matched facts (the message durable gives, by pattern alias)."""


def _alias(position: int) -> str:
    return f"m_{position}"


def _fact_index(engine_id: str) -> int:
    return int(engine_id.partition("-")[0])


def _sentinel_fired(session: _Session, matched: Mapping[str, Any]) -> None:
    session.sentinel_fired = True


def _never(session: _Session, matched: Mapping[str, Any]) -> None:
    """The action of the sink rule, whose second pattern no fact has."""


def _recorder(rule: int, width: int) -> Action:
    aliases = [_alias(position) for position in range(width)]

    def record(session: _Session, matched: Mapping[str, Any]) -> None:
        session.firings.append(Firing(rule, tuple([_fact_index(matched[alias]["id"]) for alias in aliases])))

    return record


class DurableRuleset:
    """One durable ruleset, evaluated one stateless session at a time."""

    def __init__(self, rules: Sequence[Sequence[Condition]], *, label: str) -> None:
        self._label = label
        name = f"cds_ruleset_{next(_ruleset_numbers)}"
        self._leaked = 0
        definition: dict[str, dict[str, object]] = {
            _SENTINEL: {"all": [{"m": {_SENTINEL: 1}}]},
            _SINK: {"all": [{"a": {"$ex": {"id": 1}}}, {"b": {"$ex": {_SINK: 1}}}]},
        }
        self._actions: dict[str, Action] = {_SENTINEL: _sentinel_fired, _SINK: _never}
        for index, patterns in enumerate(rules):
            definition[f"r{index}"] = {
                "all": [{_alias(position): copy.deepcopy(cond)} for position, cond in enumerate(patterns)]
            }
            self._actions[f"r{index}"] = _recorder(index, len(patterns))
        with _LOCK:
            try:
                self._handle: int | None = durable_rules_engine.create_ruleset(name, _to_json(definition))
            except durable_rules_engine.error as exc:
                raise EngineError(f"durable-rules refused ruleset {label!r}: {exc}") from exc

    def run(self, facts: Sequence[Mapping[str, int]]) -> list[Firing]:
        """Evaluate `facts` (coded properties, no sid or id) in a fresh session and forget them."""
        with _LOCK:
            self.check_open()
            for _ in range(MAX_SESSION_ATTEMPTS):
                attempt = next(_attempts)
                sid, salt = f"sid-{attempt}", f"{attempt:x}"
                stamped = [{**props, "sid": sid, "id": f"{i}-{salt}"} for i, props in enumerate(facts)]
                try:
                    return self._session(sid, f"s-{salt}", stamped)
                except _Collision:
                    continue
        raise EngineError(
            f"durable-rules reported colliding fact ids in {MAX_SESSION_ATTEMPTS} fresh sessions "
            f"of ruleset {self._label!r}"
        )

    def check_open(self) -> None:
        """EngineError once `close()` has freed the ruleset."""
        if self._handle is None:
            raise EngineError(f"engine {self._label!r} is closed")

    def _session(self, sid: str, sentinel_id: str, facts: Sequence[Mapping[str, object]]) -> list[Firing]:
        """One attempt; `facts` already carry this session's sid and their ids."""
        if self._leaked >= MAX_LEAKED_SESSIONS:
            raise EngineError(
                f"ruleset {self._label!r} has {self._leaked} sessions durable-rules could not release"
            )
        assert self._handle is not None
        handle, session = self._handle, _Session()
        batch = [{"sid": sid, "id": sentinel_id, _SENTINEL: 1}, *facts]
        try:
            status = self._assert(handle, session, durable_rules_engine.assert_facts, batch)
        except durable_rules_engine.error as exc:
            self._fire_sentinel_again(handle, session, sid, sentinel_id)
            raise EngineError(f"durable-rules failed on ruleset {self._label!r}: {exc}") from exc
        finally:
            if session.sentinel_fired:
                durable_rules_engine.delete_state(handle, sid)
            else:
                self._leaked += 1
        if status == _OBSERVED:
            raise _Collision
        if status == _NOT_HANDLED:
            raise EngineError(f"durable-rules did not handle a fact of ruleset {self._label!r}")
        if not session.sentinel_fired:
            raise EngineError(f"durable-rules did not run the sentinel action of ruleset {self._label!r}")
        if session.failed:
            raise EngineError(
                f"durable-rules sent an action of ruleset {self._label!r} a message it cannot read"
            )
        return session.firings

    def _fire_sentinel_again(self, handle: int, session: _Session, sid: str, sentinel_id: str) -> None:
        """After durable failed part way through a batch: the batch's sentinel is in the session with its
        action not started, so a second sentinel alone starts every queued action; if that fails too, the
        session stays unfired (and is left alive)."""
        with contextlib.suppress(durable_rules_engine.error):
            again = {"sid": sid, "id": f"again-{sentinel_id}", _SENTINEL: 1}
            self._assert(handle, session, durable_rules_engine.assert_fact, again)

    def _assert(
        self, handle: int, session: _Session, call: Callable[[int, str], Any], message: object
    ) -> int:
        """One assert and every action it queued, each completed before the next starts, as durable's own
        Python layer runs synchronous actions (`Ruleset.do_actions`); durable's status of the assert.

        The actions run even when durable refused part of the batch, unlike durable's layer, which raises
        first: the batch's sentinel is among them, and its session can be deleted only once one fired."""
        status, state_handle = call(handle, _to_json(message))
        if status == _NO_STATE:
            state_handle = 0
        started = durable_rules_engine.start_action_for_state(handle, state_handle)
        if not started:
            return int(status)
        message_text: str | None = started[1]
        while message_text:
            try:
                for name, matched in orjson.loads(message_text).items():
                    self._actions[name](session, matched)
                    break
            except (KeyError, TypeError, ValueError, AttributeError):
                session.failed = True
            try:
                message_text = durable_rules_engine.complete_and_start_action(handle, state_handle)
            except BaseException:
                durable_rules_engine.abandon_action(handle, state_handle)
                raise
        return int(status)

    def close(self) -> None:
        """Free the C ruleset; later runs raise EngineError. Waits for a run in progress."""
        with _LOCK:
            if self._handle is not None:
                durable_rules_engine.delete_ruleset(self._handle)
                self._handle = None
