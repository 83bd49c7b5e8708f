"""A compact record becomes valid FHIR R4 whose ids point back at the case's lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from cds.fhir import RawResource, read_input, validate_resource
from cds.workbench.builder import PatientSpec, build_bundle
from cds.workbench.lexicon import Lexicon
from cds.workbench.phrases import parse_phrase

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
LINES = [
    "cramp, onset 10 days ago, body site calf, moderate",
    "cramp, severe, as observation, 2 days ago",
    "fasciculation, frequency 4, as observation, 1 day ago",
    "weakness, refuted",
    "dysphagia, entered in error",
    "cramp, resolved, recorded 40 days ago",
    "dysarthria, other patient",
    "potassium 3.6 mEq/L 5 days ago, unit only, flagged L",
    "magnesium 1.8 mg/dL, range 1.9-2.5",
    "GAD-7 score 14 7 days ago",
    "hydrochlorothiazide 30 days ago, code 316049",
    "benign fasciculation syndrome",
]


def _bundle(lexicon: Lexicon, lines: list[str], patient: PatientSpec | None = None) -> dict[str, Any]:
    items = [parse_phrase(line, lexicon) for line in lines]
    return build_bundle(items, patient=patient or PatientSpec(), now=NOW)


MODELS: dict[str, type[Resource]] = {
    "Patient": Patient,
    "Condition": Condition,
    "Observation": Observation,
    "MedicationRequest": MedicationRequest,
}


def test_every_kind_of_line_becomes_valid_fhir_r4(lexicon: Lexicon) -> None:
    for entry in _bundle(lexicon, LINES)["entry"]:
        resource = entry["resource"]
        model, issues = validate_resource(
            RawResource(resource, None, "test"), MODELS[resource["resourceType"]]
        )
        assert model is not None and not issues, (resource["id"], [str(i) for i in issues])


def test_each_resource_id_names_the_concept_and_the_line(lexicon: Lexicon) -> None:
    bundle = _bundle(lexicon, ["cramp", "magnesium 1.3 mg/dL"])
    ids = [entry["resource"]["id"] for entry in bundle["entry"]]
    assert ids == ["test-patient", "muscle-cramp-1", "magnesium-2"]


def test_times_count_back_from_now(lexicon: Lexicon) -> None:
    resource = _bundle(lexicon, ["magnesium 1.3 mg/dL 5 days ago"])["entry"][1]["resource"]
    assert resource["effectiveDateTime"] == "2026-11-20T12:00:00+00:00"


def test_other_patient_points_the_subject_at_someone_else(lexicon: Lexicon) -> None:
    resource = _bundle(lexicon, ["dysarthria, other patient"])["entry"][1]["resource"]
    assert resource["subject"] == {"reference": "Patient/other-patient"}


def test_unit_only_writes_the_unit_without_a_ucum_code(lexicon: Lexicon) -> None:
    resource = _bundle(lexicon, ["potassium 3.6 mEq/L, unit only"])["entry"][1]["resource"]
    assert resource["valueQuantity"] == {"value": 3.6, "unit": "mEq/L"}


def test_age_becomes_a_birth_date_counted_back_from_now(lexicon: Lexicon) -> None:
    patient = _bundle(lexicon, [], PatientSpec(gender="female", age=47))["entry"][0]["resource"]
    assert patient == {
        "resourceType": "Patient",
        "id": "test-patient",
        "gender": "female",
        "birthDate": "1979-11-25",
    }


def test_the_bundle_reads_through_the_services_reader_without_notes(lexicon: Lexicon) -> None:
    read = read_input(orjson.dumps(_bundle(lexicon, LINES)))
    assert len(read.resources) == len(LINES) + 1 and not read.notes
