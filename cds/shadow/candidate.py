"""The candidate rules, evaluated in a child process of their own.

Not a thread of the worker: the engine takes one process-wide lock and C calls hold the GIL, so a
second evaluation in the same process would queue the live calls behind it (the live p50 would rise
by about the shadow's cost). And a candidate is rules nobody has run on real charts yet: if the
engine crashed on one, it must take down this child, never the worker answering the EHR. The child
gets the rulebook the parent validated (pickled, so it cannot differ from what was checked), builds
its own engine, and answers one call at a time over a pipe with the cards it would have given.

Children fork from multiprocessing's fork server, which has this package imported once: a fresh
interpreter per candidate would take seconds to start, a fork from the worker itself would copy its
threads' locks in whatever state they are.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection

import orjson

from cds.evaluation import Evaluator
from cds.fhir import ReadResult
from cds.fhir.raw import RawResource, SourceNote
from cds.rulebook import Rulebook
from cds.store import ShadowCard

START_TIMEOUT_SECONDS = 120.0
"""Spawning imports the package and builds the engine: seconds on a busy machine, never minutes."""


class CandidateFailed(RuntimeError):
    """The candidate gave no answer for a call: its process died, timed out or raised. Never reaches a
    caller (the shadow counts it as a skip), so it is not one of `cds.errors`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CandidateCall:
    """A call as it crosses the pipe: the resources as JSON, each in the text it arrived in when the
    fast reader has not parsed it (pickling parsed resources cost the worker about 1 ms per 100)."""

    resources: bytes
    patient_id: str
    now: dt.datetime

    @classmethod
    def of(cls, read: ReadResult, patient_id: str, now: dt.datetime) -> CandidateCall:
        rows = [[r.entry_json(), r.full_url, r.origin] for r in read.resources]
        notes = [[n.origin, n.message] for n in read.notes]
        return cls(orjson.dumps([rows, notes]), patient_id, now)

    def read(self) -> ReadResult:
        rows, notes = orjson.loads(self.resources)
        return ReadResult(
            [RawResource(entry["resource"], url, origin) for entry, url, origin in rows],
            [SourceNote(origin, message) for origin, message in notes],
        )


@dataclass(frozen=True)
class _Answer:
    cards: tuple[ShadowCard, ...] = ()
    error: str | None = None


def cards_of(evaluator: Evaluator, call: CandidateCall) -> tuple[ShadowCard, ...]:
    """The rule, version and indicator of each card the rules give; no text, no patient data."""
    evaluation = evaluator.evaluate(call.read(), patient_id=call.patient_id, now=call.now)
    versions = {rule.id: rule.version for rule in evaluator.rulebook.rules}
    return tuple(
        ShadowCard(rule_id, versions.get(rule_id, "unknown"), card.indicator)
        for card in evaluation.response.cards
        if (rule_id := card.source.topic.code if card.source.topic else None) is not None
    )


def _serve(connection: Connection, rulebook: Rulebook) -> None:
    """The child: SIGINT and SIGHUP are the parent's to act on; the pipe closing means the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    evaluator = Evaluator(rulebook)
    connection.send(_Answer())
    while True:
        try:
            call = connection.recv()
        except EOFError:
            return
        try:
            connection.send(_Answer(cards=cards_of(evaluator, call)))
        except Exception as error:
            connection.send(_Answer(error=type(error).__name__))


class CandidateProcess:
    """One child process holding one candidate rulebook. Used by one thread at a time (the shadow
    worker); `retire` may come from another (a reload) and never waits for a call in progress."""

    def __init__(self, rulebook: Rulebook, *, timeout: float) -> None:
        self.rulebook = rulebook
        self.timeout = timeout
        self._lock = threading.Lock()
        self._busy = False
        self._retired = False
        self._connection: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._started = False

    @property
    def version(self) -> str:
        return self.rulebook.version

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Spawns the process and returns at once: it gets ready while live calls go on."""
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, self.rulebook), daemon=True, name="cds-shadow")
        process.start()
        child.close()
        self._connection, self._process, self._started = parent, process, False

    def evaluate(self, call: CandidateCall) -> tuple[ShadowCard, ...]:
        """Raises CandidateFailed; a process that died or hung is replaced by a fresh one on the next call,
        or on this one when it is found dead before the call reached it."""
        with self._lock:
            if self._retired:
                raise CandidateFailed("retired", f"candidate rules {self.version} were replaced")
            self._busy = True
        try:
            return self._ask(call)
        finally:
            with self._lock:
                self._busy = False
                retired = self._retired
            if retired:
                self._stop()

    def _ask(self, call: CandidateCall) -> tuple[ShadowCard, ...]:
        if not self._sent(call):
            self._stop()
            if not self._sent(call):
                self._stop()
                raise CandidateFailed("crash", f"the candidate rules {self.version} process died at once")
        answer = self._receive(self.timeout, "timeout")
        if answer.error is not None:
            raise CandidateFailed("error", f"candidate rules {self.version} raised {answer.error}")
        return answer.cards

    def _sent(self, call: CandidateCall) -> bool:
        """False when the process is found dead as the call is sent, so it never got the call.

        A process is known dead only once multiprocessing's fork server, its parent, has reaped it and
        written its exit status; until then `is_alive()` is still true, for milliseconds on a busy
        machine, and the send finds the pipe closed."""
        if self._process is None or not self._process.is_alive():
            self.start()
        assert self._connection is not None
        if not self._started:
            self._receive(START_TIMEOUT_SECONDS, "start")
            self._started = True
        try:
            self._connection.send(call)
        except OSError:
            return False
        return True

    def _receive(self, timeout: float, reason: str) -> _Answer:
        assert self._connection is not None
        try:
            if self._connection.poll(timeout):
                answer = self._connection.recv()
                assert isinstance(answer, _Answer)
                return answer
        except (EOFError, OSError):
            self._stop()
            raise CandidateFailed("crash", f"the candidate rules {self.version} process died") from None
        self._stop()
        raise CandidateFailed(reason, f"candidate rules {self.version} gave no answer in {timeout:g} s")

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            busy = self._busy
        if not busy:
            self._stop()

    def _stop(self) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is not None:
            process.kill()
            process.join(timeout=5.0)
