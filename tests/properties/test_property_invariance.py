"""Invariance: order, repetition, irrelevant resources and units do not change the cards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds.evaluation import Evaluator
from cds.testing.compare import assert_same_cards, comparable_cards, outline
from cds.testing.library import response_of
from cds.testing.records import Entry
from cds.testing.space import RuleSpace
from cds.testing.strategies import (
    entered_in_error_resources,
    in_other_units,
    irrelevant_resources,
    other_patient_resources,
    records_at_any_time,
)


@given(st.data())
def test_shuffling_resources_changes_nothing(evaluator: Evaluator, data: st.DataObject) -> None:
    record = data.draw(records_at_any_time())
    shuffled = record.with_entries(data.draw(st.permutations(record.entries)))
    assert_same_cards(
        comparable_cards(response_of(evaluator, shuffled)), comparable_cards(response_of(evaluator, record))
    )


@given(st.data())
def test_repeating_resources_changes_nothing(evaluator: Evaluator, data: st.DataObject) -> None:
    record = data.draw(records_at_any_time())
    copies = data.draw(st.lists(st.sampled_from(record.entries), min_size=1, max_size=6))
    repeated = [Entry(role=e.role, resource=dict(e.resource)) for e in copies]
    doubled = record.with_entries(data.draw(st.permutations([*record.entries, *repeated])))
    assert_same_cards(
        comparable_cards(response_of(evaluator, doubled)), comparable_cards(response_of(evaluator, record))
    )


@given(st.data())
def test_irrelevant_resources_change_nothing(
    evaluator: Evaluator, space: RuleSpace, data: st.DataObject
) -> None:
    record = data.draw(records_at_any_time())
    noise = irrelevant_resources(now=record.now, patient_id=record.patient_id, space=space)
    noisy = record.plus("irrelevant", data.draw(st.lists(noise, min_size=1, max_size=4)))
    assert_same_cards(
        comparable_cards(response_of(evaluator, noisy)), comparable_cards(response_of(evaluator, record))
    )


@given(st.data())
def test_other_patients_resources_change_no_card_but_its_set_aside_list(
    evaluator: Evaluator, space: RuleSpace, data: st.DataObject
) -> None:
    record = data.draw(records_at_any_time())
    others = other_patient_resources(now=record.now, other_patient_id=f"x-{record.patient_id}", space=space)
    mixed = record.plus("other_patient", data.draw(st.lists(others, min_size=1, max_size=4)))
    before = comparable_cards(response_of(evaluator, record), set_aside=False)
    assert_same_cards(comparable_cards(response_of(evaluator, mixed), set_aside=False), before)


@given(st.data())
def test_entered_in_error_resources_change_no_card_but_its_set_aside_list(
    evaluator: Evaluator, space: RuleSpace, data: st.DataObject
) -> None:
    record = data.draw(records_at_any_time())
    errors = entered_in_error_resources(now=record.now, patient_id=record.patient_id, space=space)
    mixed = record.plus("entered_in_error", data.draw(st.lists(errors, min_size=1, max_size=4)))
    before = comparable_cards(response_of(evaluator, record), set_aside=False)
    assert_same_cards(comparable_cards(response_of(evaluator, mixed), set_aside=False), before)


@given(st.data())
def test_same_lab_value_in_another_unit_gives_the_same_cards(
    evaluator: Evaluator, space: RuleSpace, data: st.DataObject
) -> None:
    record = data.draw(records_at_any_time())
    rewritten = data.draw(in_other_units(record, space))
    assert outline(response_of(evaluator, rewritten)) == outline(response_of(evaluator, record))
