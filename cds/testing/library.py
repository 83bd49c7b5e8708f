"""A generated record through the library, exactly as `cds evaluate` reads a file."""

from __future__ import annotations

from typing import Any

from cds.cards import to_dict
from cds.evaluation import Evaluation, Evaluator
from cds.fhir import read_input
from cds.testing.records import PatientRecord, RecordForm, encode


def evaluate_record(
    evaluator: Evaluator, record: PatientRecord, form: RecordForm = "collection"
) -> Evaluation:
    """The record encoded in `form`, read and evaluated for its patient at its `now`."""
    return evaluator.evaluate(read_input(encode(record, form)), patient_id=record.patient_id, now=record.now)


def response_of(
    evaluator: Evaluator, record: PatientRecord, form: RecordForm = "collection"
) -> dict[str, Any]:
    """The CDS Hooks response JSON for the record, as the service would send it."""
    return to_dict(evaluate_record(evaluator, record, form).response)
