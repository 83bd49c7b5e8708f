"""The candidate's process gets each call's resources as they were read, and gives the cards the same
rules give in the worker."""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

import orjson
import pytest

from cds.evaluation import Evaluator
from cds.fhir import ReadResult, parse_hook_call, read_prefetch
from cds.fhir.raw import RawResource
from cds.rulebook import Rulebook
from cds.shadow.candidate import CandidateCall, CandidateProcess, cards_of

PREFETCH = Path(__file__).resolve().parents[2] / "fixtures" / "prefetch-urgent.json"
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def _fast_read() -> ReadResult:
    """The prefetch as the fast reader leaves it: most resources still the text they came in."""
    body = {"hook": "patient-view", "prefetch": orjson.loads(PREFETCH.read_bytes())}
    return read_prefetch(parse_hook_call(orjson.dumps(body))["prefetch"])


def _parsed(read: ReadResult) -> list[RawResource]:
    return [RawResource(r.resource, r.full_url, r.origin) for r in read.resources]


def test_the_resources_and_notes_cross_unchanged() -> None:
    read = _fast_read()
    crossed = CandidateCall.of(read, "pat-001", NOW).read()
    assert (crossed.resources, crossed.notes) == (_parsed(read), read.notes)
    assert read.notes  # the OperationOutcome under medicationStatements


def test_the_candidate_process_gives_the_cards_the_rules_give_in_process(
    rulebook: Rulebook, evaluator: Evaluator
) -> None:
    call = CandidateCall.of(_fast_read(), "pat-001", NOW)
    candidate = CandidateProcess(rulebook, timeout=120.0)
    candidate.start()
    try:
        assert candidate.evaluate(call) == cards_of(evaluator, call) != ()
    finally:
        candidate.retire()


def test_a_process_found_dead_before_its_death_is_known_is_replaced_for_the_same_call(
    rulebook: Rulebook, evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = CandidateCall.of(_fast_read(), "pat-001", NOW)
    candidate = CandidateProcess(rulebook, timeout=120.0)
    candidate.start()
    try:
        candidate.evaluate(call)
        dead, pid = candidate._process, candidate.pid
        assert dead is not None and pid is not None
        os.kill(pid, signal.SIGKILL)
        dead.join(60.0)
        # Its parent, the fork server, has not reported the death yet (milliseconds on a busy machine).
        monkeypatch.setattr(dead, "is_alive", lambda: True)
        assert candidate.evaluate(call) == cards_of(evaluator, call)
        assert candidate.pid not in (None, pid)
    finally:
        candidate.retire()
