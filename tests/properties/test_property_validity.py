"""Validity: every response is valid CDS Hooks 2.0 and cites only resources that were sent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds.evaluation import Evaluator
from cds.testing.checker import check_cds_response
from cds.testing.compare import cited_references
from cds.testing.library import response_of
from cds.testing.records import RECORD_FORMS, PatientRecord, RecordForm
from cds.testing.strategies import records_at_any_time


@given(records_at_any_time(), st.sampled_from(RECORD_FORMS))
def test_every_response_passes_the_cds_hooks_checker(
    evaluator: Evaluator, record: PatientRecord, form: RecordForm
) -> None:
    assert check_cds_response(response_of(evaluator, record, form)) == []


@given(records_at_any_time())
def test_every_resource_a_card_cites_was_in_the_input(evaluator: Evaluator, record: PatientRecord) -> None:
    assert cited_references(response_of(evaluator, record)) <= record.references()
