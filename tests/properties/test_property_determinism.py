"""Determinism: the same record gives the same cards, however often and in whichever form it is sent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds.evaluation import Evaluator
from cds.testing.compare import comparable_cards
from cds.testing.library import response_of
from cds.testing.records import RECORD_FORMS, PatientRecord, RecordForm
from cds.testing.strategies import records_at_any_time


@given(records_at_any_time())
def test_same_record_gives_the_same_cards_every_time(
    evaluator: Evaluator, second_evaluator: Evaluator, record: PatientRecord
) -> None:
    first = comparable_cards(response_of(evaluator, record))
    assert comparable_cards(response_of(evaluator, record)) == first
    assert comparable_cards(response_of(second_evaluator, record)) == first


@given(records_at_any_time(), st.sampled_from(RECORD_FORMS))
def test_record_gives_the_same_cards_in_every_form(
    evaluator: Evaluator, record: PatientRecord, form: RecordForm
) -> None:
    as_collection = comparable_cards(response_of(evaluator, record, "collection"))
    assert comparable_cards(response_of(evaluator, record, form)) == as_collection
