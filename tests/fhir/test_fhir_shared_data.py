"""Every real-world file the project ships beside it must read and validate; a rejection is our bug."""

from pathlib import Path

import pytest
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from cds.fhir import PatientMatcher, read_path, validate_resource

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"
CLINICAL_MODELS: dict[str, type[Resource]] = {
    model.get_resource_type(): model
    for model in (Observation, Condition, MedicationRequest, MedicationStatement, Patient)
}
SUFFIXES = (".json", ".json.gz", ".ndjson", ".ndjson.gz")


def shared_files(folder: str = "") -> list[Path]:
    root = SHARED_DATA / folder
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and path.name.endswith(SUFFIXES))


def file_params(folder: str = "") -> list[object]:
    files = shared_files(folder)
    if not files:
        return [
            pytest.param(
                None, marks=pytest.mark.skip(reason=f"shared test data not found at {SHARED_DATA / folder}")
            )
        ]
    return [pytest.param(path, id=str(path.relative_to(SHARED_DATA))) for path in files]


@pytest.mark.parametrize("path", file_params())
def test_every_clinical_resource_in_shared_data_validates(path: Path) -> None:
    failures = []
    for raw in read_path(path).resources:
        model = CLINICAL_MODELS.get(raw.resource_type)
        if model is not None:
            validated, issues = validate_resource(raw, model)
            if validated is None:
                failures.append((raw.origin, [str(issue) for issue in issues]))
    assert failures == []


@pytest.mark.parametrize("path", file_params("pddi-cds"))
def test_pddi_cds_observations_only_lose_their_stu3_context(path: Path) -> None:
    (raw,) = read_path(path).resources
    _, issues = validate_resource(raw, Observation)
    assert [str(issue) for issue in issues] == ["Observation.context: ignored unknown element"]


@pytest.mark.parametrize("path", file_params("synthea-r4"))
def test_synthea_clinical_resources_are_about_the_bundles_patient(path: Path) -> None:
    resources = read_path(path).resources
    if not any(raw.resource_type == "Patient" for raw in resources):
        pytest.skip("a practitioner and organisation file, no patient")
    matcher = PatientMatcher.infer(resources)
    clinical = [raw for raw in resources if raw.resource_type in CLINICAL_MODELS]
    assert [raw.origin for raw in clinical if not matcher.is_about_patient(raw)] == []
