"""The walled-off durable-rules host: the only module in the project that imports durable.

Every workaround from shared/reference/durable-rules-notes.md lives here:
- no background timer threads (`Host._run` does nothing): they race sessions and steal pending actions;
- one process-wide lock around every call into the C engine: its handle table is global, and actions call
  back into Python in the middle of a C call, where another thread could otherwise enter it. C calls hold
  the GIL, so a lock per ruleset would buy no throughput;
- each session first asserts a sentinel fact, alone, that a sentinel rule fires on, because deleting a
  session in which no action fired frees uninitialised memory. A session whose sentinel did not fire is
  left alive instead of deleted, and a ruleset that has left too many alive refuses more work, well before
  durable's limit of 1024 live sessions;
- a sink rule (two patterns, the second unsatisfiable) makes every fact "handled", so a fact no rule
  matches cannot abort the batch;
- each attempt has a fresh sid and freshly salted fact ids: durable identifies a fact by a 32-bit hash of
  its id, and a collision between distinct facts surfaces as MessageObservedException, which is retried;
- results are recorded in a Python list per session, never in the durable session state.
"""

import copy
import itertools
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import durable_rules_engine
from durable.engine import Host, MessageNotHandledException, MessageObservedException

from cds.errors import EngineError

Condition = Mapping[str, object]
"""A durable JSON condition over one fact, e.g. {"$and": [{"s_kind": 3}, {"$gt": {"n_dose": 5}}]}."""

MAX_PATTERNS_PER_RULE = 8
"""durable fails with error 304 at 17 patterns in one rule."""
MAX_ALPHA_TESTS = 400
"""durable hangs at 512 alpha tests in one ruleset; the sentinel and sink rules use 3 more."""
MAX_PATTERN_BRANCHES = 200
"""durable fails with error 108 once about 256 patterns hang off one alpha test."""
MAX_PENDING_ALPHA_TESTS = 48
"""durable fails with error 303 when one fact leaves more than 64 alpha tests pending at once."""
MAX_FACT_PROPERTIES = 200
"""durable segfaults at 253 top-level properties of one fact; sid and id are added to what is given."""
MAX_SESSION_ATTEMPTS = 5
MAX_LEAKED_SESSIONS = 64

_SENTINEL = "sentinel"
_SINK = "sink"
_LOCK = threading.Lock()
_ruleset_numbers = itertools.count(1)


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


class _TimerlessHost(Host):  # type: ignore[misc]
    def _run(self) -> None:
        """Never start durable's dispatch threads; every action runs inside our own assert call."""


def _never(c: Any) -> None:
    """The action of the sink rule, whose second pattern no fact has."""


def _alias(position: int) -> str:
    return f"m_{position}"


def _fact_index(engine_id: str) -> int:
    return int(engine_id.partition("-")[0])


class DurableRuleset:
    """One durable ruleset, evaluated one stateless session at a time."""

    def __init__(self, rules: Sequence[Sequence[Condition]], *, label: str) -> None:
        self._label = label
        self._name = f"cds_ruleset_{next(_ruleset_numbers)}"
        self._sessions: dict[str, _Session] = {}
        self._leaked = 0
        definition: dict[str, dict[str, object]] = {
            _SENTINEL: {"all": [{"m": {_SENTINEL: 1}}], "run": self._sentinel_fired},
            _SINK: {"all": [{"a": {"$ex": {"id": 1}}}, {"b": {"$ex": {_SINK: 1}}}], "run": _never},
        }
        for index, patterns in enumerate(rules):
            definition[f"r{index}"] = {
                "all": [{_alias(position): copy.deepcopy(cond)} for position, cond in enumerate(patterns)],
                "run": self._recorder(index, len(patterns)),
            }
        host = _TimerlessHost()
        with _LOCK:
            try:
                host.register_rulesets({self._name: definition})
            except durable_rules_engine.error as exc:
                raise EngineError(f"durable-rules refused ruleset {label!r}: {exc}") from exc
        self._host: Any = host

    def _sentinel_fired(self, c: Any) -> None:
        self._sessions[c.s.sid].sentinel_fired = True

    def _recorder(self, rule: int, width: int) -> Callable[[Any], None]:
        aliases = [_alias(position) for position in range(width)]

        def record(c: Any) -> None:
            matched = tuple(_fact_index(c._m[alias]["id"]) for alias in aliases)
            self._sessions[c.s.sid].firings.append(Firing(rule, matched))

        return record

    def run(self, facts: Sequence[Mapping[str, int]]) -> list[Firing]:
        """Evaluate `facts` (coded properties, no sid or id) in a fresh session and forget them."""
        with _LOCK:
            if self._host is None:
                raise EngineError(f"engine {self._label!r} is closed")
            for _ in range(MAX_SESSION_ATTEMPTS):
                sid, salt = uuid.uuid4().hex, secrets.token_hex(4)
                stamped = [{**props, "sid": sid, "id": f"{i}-{salt}"} for i, props in enumerate(facts)]
                try:
                    return self._session(sid, f"s-{salt}", stamped)
                except _Collision:
                    continue
        raise EngineError(
            f"durable-rules reported colliding fact ids in {MAX_SESSION_ATTEMPTS} fresh sessions "
            f"of ruleset {self._label!r}"
        )

    def _session(self, sid: str, sentinel_id: str, facts: Sequence[Mapping[str, object]]) -> list[Firing]:
        """One attempt; `facts` already carry this session's sid and their ids."""
        if self._leaked >= MAX_LEAKED_SESSIONS:
            raise EngineError(
                f"ruleset {self._label!r} has {self._leaked} sessions durable-rules could not release"
            )
        session = self._sessions[sid] = _Session()
        try:
            self._host.assert_fact(self._name, {"sid": sid, "id": sentinel_id, _SENTINEL: 1})
            if not session.sentinel_fired:
                raise EngineError(f"durable-rules did not run the sentinel action of ruleset {self._label!r}")
            if facts:
                self._host.assert_facts(self._name, facts)
        except MessageObservedException as exc:
            raise _Collision from exc
        except MessageNotHandledException as exc:
            raise EngineError(f"durable-rules did not handle a fact of ruleset {self._label!r}") from exc
        except durable_rules_engine.error as exc:
            raise EngineError(f"durable-rules failed on ruleset {self._label!r}: {exc}") from exc
        finally:
            del self._sessions[sid]
            if session.sentinel_fired:
                self._host.delete_state(self._name, sid)
            else:
                self._leaked += 1
        return session.firings

    def close(self) -> None:
        """Free the C ruleset; later runs raise EngineError. Waits for a run in progress."""
        with _LOCK:
            if self._host is not None:
                durable_rules_engine.delete_ruleset(self._host.get_ruleset(self._name)._handle)
                self._host = None
