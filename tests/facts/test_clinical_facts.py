"""How resources become clinical facts: recognition, exclusions and patterns from the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from cds.evaluation import Evaluation, Evaluator
from cds.facts.dates import parse_when
from cds.fhir import read_input

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def condition(
    rid: str, system: str, code: str, onset: str, text: str | None = None, **extra: Any
) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    if text:
        concept["text"] = text
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": concept,
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": onset,
        **extra,
    }


def evaluate(evaluator: Evaluator, *resources: dict[str, Any]) -> Evaluation:
    return evaluator.evaluate(read_input(orjson.dumps(list(resources))), patient_id="p1", now=NOW)


def kinds(evaluation: Evaluation) -> dict[str, str]:
    return {f.id: f.kind for f in evaluation.facts.facts}


def rules_fired(evaluation: Evaluation) -> list[str]:
    return [f.rule.id for f in evaluation.decision.findings]


def test_icd10_code_without_its_dot_is_recognised(evaluator: Evaluator) -> None:
    evaluation = evaluate(evaluator, condition("c1", ICD, "R252", "2026-11-20"))
    assert "symptom:muscle_spasm" in kinds(evaluation)


def test_motor_neuron_disease_family_code_is_recognised_by_prefix(evaluator: Evaluator) -> None:
    evaluation = evaluate(evaluator, condition("c1", ICD, "G12.29", "2025-01-01"))
    assert "problem:motor_neuron_disease" in kinds(evaluation)


def test_benign_fasciculation_syndrome_is_recognised_by_its_words(evaluator: Evaluator) -> None:
    bfs = condition("c1", ICD, "R25.3", "2026-10-01", text="Benign fasciculation syndrome")
    bfs["code"]["coding"] = [{"system": "http://example.org/local", "code": "BFS"}]
    evaluation = evaluate(evaluator, condition("c2", SCT, "82470000", "2026-11-20"), bfs)
    assert "problem:benign_fasciculation_syndrome" in kinds(evaluation)
    assert rules_fired(evaluation) == ["spasm-benign-contributors"]


def test_red_flag_new_since_the_symptom_began_is_progressive(evaluator: Evaluator) -> None:
    evaluation = evaluate(
        evaluator,
        condition("c1", SCT, "55300003", "2026-10-01"),
        condition("c2", SCT, "26544005", "2026-11-20"),
    )
    facts = {f.id: f for f in evaluation.facts.facts}
    assert facts["red_flag:weakness"].engine_payload()["progressive"] is True
    assert "pattern:progressive_red_flag:weakness" in facts
    assert "muscle weakness (progressive)" in evaluation.response.cards[0].summary


def test_medication_given_by_reference_is_resolved(evaluator: Evaluator) -> None:
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"coding": [{"system": RXNORM, "code": "313988", "display": "Furosemide 40 MG Oral Tablet"}]},
    }
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "Medication/m1"},
        "subject": {"reference": "Patient/p1"},
    }
    evaluation = evaluate(evaluator, condition("c1", SCT, "55300003", "2026-11-20"), medication, request)
    assert "medication:furosemide" in kinds(evaluation)


def test_medication_statement_named_only_by_text_is_recognised(evaluator: Evaluator) -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "medicationCodeableConcept": {"text": "Sertraline 50 mg tablet"},
        "subject": {"reference": "Patient/p1"},
    }
    evaluation = evaluate(evaluator, condition("c1", SCT, "55300003", "2026-11-20"), statement)
    assert "medication:sertraline" in kinds(evaluation)


def test_stopped_medication_is_set_aside(evaluator: Evaluator) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "stopped",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "316049"}]},
        "subject": {"reference": "Patient/p1"},
    }
    evaluation = evaluate(evaluator, condition("c1", SCT, "55300003", "2026-11-20"), request)
    assert [s.reason for s in evaluation.facts.set_aside] == ["medication status is stopped, not active"]


def test_condition_dated_after_the_evaluation_time_counts_from_its_recorded_date(
    evaluator: Evaluator,
) -> None:
    weakness = condition("w1", SCT, "26544005", "2027-01-01", recordedDate="2026-11-01")
    evaluation = evaluate(evaluator, condition("c1", SCT, "55300003", "2026-11-20"), weakness)
    assert rules_fired(evaluation) == ["spasm-red-flag"]
    assert any(
        "Condition/w1: data quality" in note and "recorded 2026-11-01" in note
        for note in evaluation.facts.notes
    )


def test_condition_dated_after_the_evaluation_time_with_no_recorded_date_is_kept_with_a_note(
    evaluator: Evaluator,
) -> None:
    evaluation = evaluate(evaluator, condition("c1", SCT, "55300003", "2027-01-01"))
    assert evaluation.facts.set_aside == []
    assert any("counted as of the evaluation time" in note for note in evaluation.facts.notes)


def test_many_resources_for_one_conclusion_give_one_card(evaluator: Evaluator) -> None:
    cramps = [condition(f"c{i}", SCT, "55300003", "2026-11-20") for i in range(5)]
    weakness = [condition(f"w{i}", SCT, "26544005", "2026-11-10") for i in range(3)]
    evaluation = evaluate(evaluator, *cramps, *weakness)
    assert len(evaluation.response.cards) == 1
    assert all(f"Condition/c{i}" in (evaluation.response.cards[0].detail or "") for i in range(5))


def test_set_aside_items_are_named_in_the_card(evaluator: Evaluator) -> None:
    refuted = condition("w1", SCT, "26544005", "2026-11-10")
    refuted["verificationStatus"] = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}
        ]
    }
    evaluation = evaluate(evaluator, condition("c1", SCT, "55300003", "2026-11-20"), refuted)
    [card] = evaluation.response.cards
    assert "`Condition/w1`" in (card.detail or "") and "refuted" in (card.detail or "")


def test_a_date_that_leaves_the_calendar_in_utc_is_unreadable_not_a_crash() -> None:
    assert parse_when("0001-01-01T00:00:00+01:00") is None
    assert parse_when("9999-12-31T23:30:00-01:00") is None


def test_a_full_datetime_with_an_offset_is_the_instant_it_names() -> None:
    assert parse_when("2026-11-20T14:00:00+01:00") == dt.datetime(2026, 11, 20, 13, tzinfo=dt.UTC)
