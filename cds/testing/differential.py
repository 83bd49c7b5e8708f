"""Differential checks: the same input through two implementations, the differences reported.

- The engine against the reference evaluator (`cds.testing.reference`), on a record or on facts drawn
  directly: `disagreement`, `fact_disagreement`.
- Two rule sets, for reviewing a rule change: `rule_change_records(old, new, now=...)` draws records
  near the thresholds of both (and, most of the time, with a current result of each concept whose
  threshold moved), `card_difference(old_evaluator, new_evaluator, record)` says what changed.
- Two running services, on the same generated calls: `service_difference(first, second, call)`.
- The fast reader against the validating one, on any bytes: `reader_difference(evaluator, data, ...)`
  requires the same evaluation (response, facts, what was set aside, notes) or the same error.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import yaml
from hypothesis import strategies as st

from cds.cards import to_dict
from cds.errors import CdsError
from cds.evaluation import Evaluation, Evaluator
from cds.facts.models import Fact
from cds.fhir import Reader, read_input
from cds.findings import decide
from cds.testing.charts import draw_record
from cds.testing.clinical import Chart, draw_finding, draw_measured
from cds.testing.compare import rule_ids, top_indicator
from cds.testing.fhir_values import integers, pick
from cds.testing.harness import HttpService
from cds.testing.library import response_of
from cds.testing.records import PatientRecord
from cds.testing.reference import ReferenceEvaluator
from cds.testing.requests import HookCall
from cds.testing.space import MeasuredConcept, RuleSpace, load_space


def disagreement(evaluation: Evaluation, reference: ReferenceEvaluator) -> str | None:
    """How the cards of `evaluation` differ from what the reference evaluator derives from its facts;
    None when they agree on the rules that fired and the top indicator."""
    response = to_dict(evaluation.response)
    expected = reference.evaluate(fact.engine_payload() for fact in evaluation.facts.facts)
    fired = tuple(sorted(rule_ids(response)))
    problems = []
    if fired != expected.fired:
        problems.append(f"engine fired {list(fired)}, reference fired {list(expected.fired)}")
    if top_indicator(response) != expected.top_indicator:
        problems.append(f"top indicator {top_indicator(response)} != reference {expected.top_indicator}")
    if not problems:
        return None
    facts = "\n".join(f"  {fact.engine_payload()}" for fact in evaluation.facts.facts)
    return "; ".join(problems) + f"\nfacts:\n{facts}"


def fact_disagreement(
    evaluator: Evaluator, reference: ReferenceEvaluator, facts: Sequence[Fact]
) -> str | None:
    """The same comparison on facts drawn directly (see `cds.testing.facts`): the engine and `decide`
    against the reference, on the rules that fire and their indicators."""
    payloads = [fact.engine_payload() for fact in facts]
    decision = decide(evaluator.rulebook, evaluator.engine.evaluate(payloads))
    fired = {finding.rule.id: finding.rule.indicator for finding in decision.findings}
    expected = reference.evaluate(payloads)
    if fired == expected.indicators:
        return None
    listing = "\n".join(f"  {payload}" for payload in payloads)
    return f"engine fired {fired}, reference fired {expected.indicators}\nfacts:\n{listing}"


def changed_parameters(old: Path | str, new: Path | str) -> dict[str, tuple[Any, Any]]:
    """Each parameter whose value differs between two rules directories: name -> (old, new)."""

    def values(directory: Path | str) -> dict[str, Any]:
        read = yaml.safe_load((Path(directory) / "parameters.yaml").read_text(encoding="utf-8"))
        return {name: spec.get("value") for name, spec in (read.get("parameters") or {}).items()}

    before, after = values(old), values(new)
    return {
        name: (before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    }


def change_space(old: RuleSpace, new: RuleSpace) -> RuleSpace:
    """`new`'s vocabulary with every threshold of both rule sets, so values are drawn near each."""
    before = {(m.kind, m.name): m.thresholds for m in old.measured}
    measured = tuple(
        m.model_copy(update={"thresholds": tuple(sorted({*m.thresholds, *before.get((m.kind, m.name), ())}))})
        for m in new.measured
    )
    return new.narrowed(new.findings, measured, new.ingredients)


def _moved(old: RuleSpace, new: RuleSpace) -> tuple[MeasuredConcept, ...]:
    """Each measured concept whose thresholds differ between the rule sets, with only the thresholds
    that moved (old and new): values near those are where a change shows."""
    before = {(m.kind, m.name): set(m.thresholds) for m in old.measured}
    moved = []
    for concept in new.measured:
        changed = before.get((concept.kind, concept.name), set()) ^ set(concept.thresholds)
        if changed:
            moved.append(concept.model_copy(update={"thresholds": tuple(sorted(changed))}))
    return tuple(moved)


@st.composite
def rule_change_records(
    draw: st.DrawFn, old: Path | str, new: Path | str, *, now: dt.datetime, patient_id: str = "pat-1"
) -> PatientRecord:
    """Records for comparing two rule sets: `patient_records` drawn near the thresholds of both and,
    most of the time, a current symptom with a current result of a concept whose threshold moved (a
    changed magnesium threshold gets magnesium results on either side of both values)."""
    before, after = load_space(old), load_space(new)
    chart = Chart(now=now, patient_id=patient_id, space=change_space(before, after))
    record = draw_record(draw, chart)
    moved = _moved(before, after)
    if not moved or draw(integers(0, 3)) == 0:
        return record
    concept = pick(draw, moved)
    focus = [
        draw_finding(draw, chart, "symptom", current=True),
        draw_measured(draw, chart, concept.kind, current=True, concept=concept, near=True),
    ]
    return record.plus("symptom", focus[:1]).plus(concept.kind, focus[1:])


def _gist(response: Any) -> list[tuple[str, str, str]]:
    """What a clinician acts on, for any service: (source, indicator, summary) per card, in order."""
    body = orjson.loads(response) if isinstance(response, bytes | str) else response
    cards = (body.get("cards") or []) if isinstance(body, dict) else []
    return [
        (
            str(
                (card.get("source") or {}).get("topic", {}).get("code")
                or (card.get("source") or {}).get("label")
            ),
            str(card.get("indicator")),
            str(card.get("summary")),
        )
        for card in cards
        if isinstance(card, dict)
    ]


def card_difference(old: Evaluator, new: Evaluator, record: PatientRecord) -> str | None:
    """How the cards of two rule sets differ on `record` (rule, indicator, summary); None when alike."""
    before, after = _gist(response_of(old, record)), _gist(response_of(new, record))
    if before == after:
        return None
    return f"old rules: {before}\nnew rules: {after}"


def service_difference(first: HttpService, second: HttpService, call: HookCall) -> str | None:
    """How two running services answer the same call differently (status, then the cards' source,
    indicator and summary); None when they agree. Each answer is checked as `send` checks it."""
    a, b = first.send(call), second.send(call)
    if (a.status, a.status == 200 and _gist(a.content)) == (b.status, b.status == 200 and _gist(b.content)):
        return None
    return (
        f"{first.base_url} answered {a.status} {_gist(a.content) if a.status == 200 else ''}\n"
        f"{second.base_url} answered {b.status} {_gist(b.content) if b.status == 200 else ''}\n"
        f"reproduce:\n{a.curl}\n{b.curl}"
    )


def reader_difference(
    evaluator: Evaluator, data: bytes, *, patient_id: str | None = None, now: dt.datetime
) -> str | None:
    """How reading `data` the fast way and the validating way (`cds.fhir.Reader`) changes anything: the
    response (card uuids numbered alike), the facts, what was set aside, the notes, or the error."""
    fast, validating = (
        _reading(evaluator, data, reader, patient_id, now) for reader in ("fast", "validating")
    )
    if fast == validating:
        return None
    return f"fast reader: {fast!r}\nvalidating reader: {validating!r}"


def _reading(
    evaluator: Evaluator, data: bytes, reader: Reader, patient_id: str | None, now: dt.datetime
) -> tuple[Any, ...]:
    serial = itertools.count()
    try:
        read = read_input(data, reader=reader)
        evaluation = evaluator.evaluate(
            read, patient_id=patient_id, now=now, new_uuid=lambda: str(uuid.UUID(int=next(serial)))
        )
    except CdsError as error:
        return (type(error).__name__, str(error))
    facts = evaluation.facts
    return (
        evaluation.response_json().decode(),
        facts.facts,
        facts.set_aside,
        facts.notes,
        evaluation.source_notes,
    )
