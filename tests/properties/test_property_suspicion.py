"""Suspicion: a suspected ALS or motor neuron disease is a reason to look, never a reason to stay silent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds.evaluation import Evaluator
from cds.testing.compare import indicator_rank, outline, top_indicator
from cds.testing.library import response_of
from cds.testing.space import RuleSpace
from cds.testing.strategies import records_at_any_time

VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
SUSPECTED = ("provisional", "differential", "unconfirmed")


@st.composite
def suspected_mnd(draw: st.DrawFn, space: RuleSpace, patient_id: str) -> dict[str, object]:
    """An active Condition naming ALS or motor neuron disease as a suspicion, not a diagnosis."""
    concept = draw(st.sampled_from(space.concepts("problem", "context")))
    code = draw(st.sampled_from([c for c in concept.codes if not c.prefix]))
    return {
        "resourceType": "Condition",
        "id": "suspected",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": VERIFICATION, "code": draw(st.sampled_from(SUSPECTED))}]
        },
        "code": {"coding": [{"system": code.system, "code": code.code, "display": code.display}]},
        "subject": {"reference": f"Patient/{patient_id}"},
    }


@given(st.data())
def test_a_suspected_als_never_removes_a_card(
    evaluator: Evaluator, space: RuleSpace, data: st.DataObject
) -> None:
    record = data.draw(records_at_any_time())
    suspected = record.plus("problem", [data.draw(suspected_mnd(space, record.patient_id))])
    before = {rule for rule, _, _ in outline(response_of(evaluator, record))}
    after = response_of(evaluator, suspected)
    assert before <= {rule for rule, _, _ in outline(after)}
    assert indicator_rank(top_indicator(after)) >= indicator_rank(
        top_indicator(response_of(evaluator, record))
    )
