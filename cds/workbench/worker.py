"""The back-test's unit of work, run in a worker process or on a Dask worker: a batch of patients in,
the cards each rule set gives them out (rule id and indicator only, so results stay small)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cds.engine import EngineError
from cds.evaluation import Evaluator
from cds.fhir import InputError, ReadResult, patient_ids, read_input
from cds.fhir.formats import decompress
from cds.workbench.population import PatientInput
from cds.workbench.snapshot import RulesSnapshot, evaluator_for

CardSet = tuple[tuple[str, str], ...]
"""(rule id, indicator) of each card, sorted."""


@dataclass(frozen=True, slots=True)
class PatientOutcome:
    label: str
    patient_id: str | None
    cards: tuple[CardSet, ...]
    """One per rule set, in the order the rule sets were given."""
    error: str | None = None


def evaluate_batch(
    batch: Sequence[PatientInput], rules: Sequence[RulesSnapshot], now: dt.datetime
) -> list[PatientOutcome]:
    evaluators = [evaluator_for(snapshot) for snapshot in rules]
    outcomes: list[PatientOutcome] = []
    for item in batch:
        try:
            read = read_input(decompress(item.data) if item.compressed else item.data)
        except InputError as exc:
            outcomes.append(PatientOutcome(item.label, item.patient_id, (), f"cannot be read: {exc}"))
            continue
        ids: list[str | None] = [item.patient_id] if item.patient_id else [*patient_ids(read.resources)]
        for patient_id in ids or [None]:
            outcomes.append(_evaluate(item.label, read, patient_id, evaluators, now))
    return outcomes


def _evaluate(
    label: str, read: ReadResult, patient_id: str | None, evaluators: Sequence[Evaluator], now: dt.datetime
) -> PatientOutcome:
    results: list[CardSet] = []
    evaluated_id = patient_id
    try:
        for evaluator in evaluators:
            evaluation = evaluator.evaluate(read, patient_id=patient_id, now=now)
            evaluated_id = evaluation.facts.patient_id
            cards = evaluation.response.cards
            results.append(tuple(sorted((c.source.topic.code, c.indicator) for c in cards if c.source.topic)))
    except (InputError, EngineError) as exc:
        return PatientOutcome(label, evaluated_id, (), str(exc))
    return PatientOutcome(label, evaluated_id, tuple(results))
