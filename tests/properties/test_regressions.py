"""Bugs the properties found, pinned as plain examples so they stay fixed.

A new one goes in marked `xfail(strict=True, reason=...)` while it is open: the fix makes it pass, strict
xfail turns that into a failure, and the marker comes off (with any step-around in the property).
Fixed so far: a known ALS let a red flag take away the only card (monotonicity); two prescriptions of
one drug gave order-dependent words (order invariance); a resource without an id was cited as
`Condition/(no id)` in the suggested order (validity); an "irrelevant" Asthma explained a red flag away
(irrelevance invariance).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cds.evaluation import Evaluator
from cds.rulebook import DEFAULT_RULES_DIR
from cds.testing.compare import cited_references, comparable_cards, indicator_rank, rule_ids, top_indicator
from cds.testing.library import response_of
from cds.testing.records import Entry, PatientRecord
from cds.testing.space import load_space

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ACTIVE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
}


def _condition(resource_id: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": resource_id,
        "clinicalStatus": ACTIVE,
        "code": {"coding": [{"system": SNOMED, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "onsetDateTime": "2026-11-01",
    }


def _furosemide(resource_id: str, concept: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": resource_id,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {"reference": "Patient/p"},
        "authoredOn": "2026-11-01",
    }


def _record(*resources: dict[str, Any]) -> PatientRecord:
    patient = {"resourceType": "Patient", "id": "p"}
    entries = [Entry(role="patient", resource=r) for r in (patient, *resources)]
    return PatientRecord(patient_id="p", now=NOW, entries=tuple(entries))


CRAMP = _condition("cramp", "55300003")
KNOWN_ALS = _condition("als", "86044005")
HYPOMAGNESEMIA = _condition("low-mg", "190855004")
WEAKNESS = _condition("weak", "26544005")
BY_CODE = _furosemide("by-code", {"coding": [{"system": RXNORM, "code": "313988"}]})
BY_NAME = _furosemide("by-name", {"text": "Lasix 40mg"})


def test_adding_a_red_flag_to_a_known_als_record_never_lowers_the_top_indicator(evaluator: Evaluator) -> None:
    before = top_indicator(response_of(evaluator, _record(CRAMP, KNOWN_ALS, HYPOMAGNESEMIA)))
    after = top_indicator(response_of(evaluator, _record(CRAMP, KNOWN_ALS, HYPOMAGNESEMIA, WEAKNESS)))
    assert indicator_rank(after) >= indicator_rank(before)


def test_order_of_two_prescriptions_of_one_drug_does_not_change_the_card(evaluator: Evaluator) -> None:
    code_first = comparable_cards(response_of(evaluator, _record(CRAMP, BY_CODE, BY_NAME)))
    name_first = comparable_cards(response_of(evaluator, _record(CRAMP, BY_NAME, BY_CODE)))
    assert code_first == name_first


def test_a_card_cites_only_resources_it_can_name(evaluator: Evaluator) -> None:
    without_ids = [{k: v for k, v in resource.items() if k != "id"} for resource in (CRAMP, WEAKNESS)]
    response = response_of(evaluator, _record(*without_ids), "list")
    assert rule_ids(response) == ["spasm-red-flag"]
    assert cited_references(response) <= {"Patient/p"}


def test_a_condition_that_explains_a_red_flag_is_never_drawn_as_irrelevant_data() -> None:
    """Irrelevance invariance: an "irrelevant" Asthma turned a breathing difficulty into context."""
    space = load_space(DEFAULT_RULES_DIR)
    assert space.recognises(SNOMED, "195967001")  # asthma, valuesets/explaining_conditions.yaml
    assert space.recognises("http://hl7.org/fhir/sid/icd-10-cm", "I50.9")  # a heart failure child
