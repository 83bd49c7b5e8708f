"""The back-test's unit of work, run in a worker process or on a Dask worker: a batch of patients in,
the cards each rule set gives them out (rule id and indicator only, so results stay small)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cds.engine import EngineError
from cds.evaluation import Evaluation, Evaluator
from cds.fhir import InputError, ReadResult, patient_ids, read_input
from cds.fhir.formats import decompress
from cds.rulebook.diff import RulesDiff
from cds.workbench.population import PatientInput
from cds.workbench.snapshot import RulesSnapshot, evaluator_for, rules_diff
from cds.workbench.why import why_changed

CardSet = tuple[tuple[str, str], ...]
"""(rule id, indicator) of each card, sorted."""


@dataclass(frozen=True, slots=True)
class PatientOutcome:
    label: str
    patient_id: str | None
    cards: tuple[CardSet, ...]
    """One per rule set, in the order the rule sets were given."""
    error: str | None = None
    why: str = ""
    """With two rule sets whose cards differ: why, in one line (`cds.workbench.why`)."""


def evaluate_batch(
    batch: Sequence[PatientInput], rules: Sequence[RulesSnapshot], now: dt.datetime
) -> list[PatientOutcome]:
    evaluators = [evaluator_for(snapshot) for snapshot in rules]
    diff = rules_diff(rules[1], rules[0]) if len(rules) == 2 else None
    outcomes: list[PatientOutcome] = []
    for item in batch:
        try:
            read = read_input(decompress(item.data) if item.compressed else item.data)
        except InputError as exc:
            outcomes.append(PatientOutcome(item.label, item.patient_id, (), f"cannot be read: {exc}"))
            continue
        ids: list[str | None] = [item.patient_id] if item.patient_id else [*patient_ids(read.resources)]
        for patient_id in ids or [None]:
            outcomes.append(_evaluate(item.label, read, patient_id, evaluators, now, diff))
    return outcomes


def _evaluate(
    label: str,
    read: ReadResult,
    patient_id: str | None,
    evaluators: Sequence[Evaluator],
    now: dt.datetime,
    diff: RulesDiff | None,
) -> PatientOutcome:
    """`diff` from the second rule set (the baseline) to the first (the current rules), if two."""
    evaluations: list[Evaluation] = []
    evaluated_id = patient_id
    try:
        for evaluator in evaluators:
            evaluation = evaluator.evaluate(read, patient_id=patient_id, now=now)
            evaluated_id = evaluation.facts.patient_id
            evaluations.append(evaluation)
    except (InputError, EngineError) as exc:
        return PatientOutcome(label, evaluated_id, (), str(exc))
    cards = tuple(_card_set(evaluation) for evaluation in evaluations)
    why = ""
    if diff is not None and cards[0] != cards[1]:
        why = why_changed(before=evaluations[1], after=evaluations[0], diff=diff)
    return PatientOutcome(label, evaluated_id, cards, why=why)


def _card_set(evaluation: Evaluation) -> CardSet:
    cards = evaluation.response.cards
    return tuple(sorted((c.source.topic.code, c.indicator) for c in cards if c.source.topic))
