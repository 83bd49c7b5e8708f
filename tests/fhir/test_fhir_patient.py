from pathlib import Path
from typing import Any

import pytest

from cds.fhir import InputError, PatientMatcher, RawResource, check_in_input, patient_ids, read_path
from cds.fhir.patient import patient_of

DATA = Path(__file__).parent / "data"


def raw(resource: dict[str, Any], full_url: str | None = None) -> RawResource:
    return RawResource(resource, full_url, "test")


def condition(subject: dict[str, Any]) -> RawResource:
    return raw(
        {
            "resourceType": "Condition",
            "id": "c-77",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
            "subject": subject,
        }
    )


def patient(id_: str, full_url: str | None = None) -> RawResource:
    return raw({"resourceType": "Patient", "id": id_, "gender": "female"}, full_url)


MATCHER = PatientMatcher.for_patient("123", [])


@pytest.mark.parametrize(
    "reference",
    [
        "Patient/123",
        "Patient/123/_history/2",
        "https://ehr.example.org/fhir/Patient/123",
        "https://ehr.example.org/fhir/Patient/123/_history/7",
    ],
)
def test_literal_references_to_the_patient_match(reference: str) -> None:
    assert MATCHER.is_about_patient(condition({"reference": reference}))


@pytest.mark.parametrize(
    "reference",
    [
        "Patient/1234",
        "Patient/12",
        "Patient/123x",
        "Group/123",
        "https://ehr.example.org/fhir/Group/123",
        "123",
    ],
)
def test_references_to_other_things_do_not_match(reference: str) -> None:
    assert not MATCHER.is_about_patient(condition({"reference": reference}))


def test_contained_reference_does_not_match() -> None:
    assert not MATCHER.is_about_patient(condition({"reference": "#p1"}))


def test_display_only_reference_does_not_match() -> None:
    assert not MATCHER.is_about_patient(condition({"display": "Patient/123"}))


def test_logical_identifier_reference_does_not_match() -> None:
    subject = {"type": "Patient", "identifier": {"system": "http://hospital.example.org/mrn", "value": "123"}}
    assert not MATCHER.is_about_patient(condition(subject))


def test_subject_that_is_not_an_object_does_not_match() -> None:
    assert not MATCHER.is_about_patient(condition("Patient/123"))  # type: ignore[arg-type]


def test_patient_element_is_used_by_resources_without_subject() -> None:
    allergy = raw(
        {
            "resourceType": "AllergyIntolerance",
            "id": "a1",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005"}]},
            "patient": {"reference": "Patient/123"},
        }
    )
    assert MATCHER.is_about_patient(allergy)


def test_resource_without_subject_is_not_about_the_patient() -> None:
    assert not MATCHER.is_about_patient(raw({"resourceType": "Practitioner", "id": "123"}))


def test_the_patient_resource_itself_is_about_the_patient() -> None:
    assert MATCHER.is_about_patient(patient("123"))


def test_another_patient_resource_is_not_about_the_patient() -> None:
    assert not MATCHER.is_about_patient(patient("456"))


def test_urn_full_url_of_the_patient_entry_matches() -> None:
    resources = read_path(DATA / "transaction-urn.json").resources
    matcher = PatientMatcher.for_patient("5c3e1f0a-9d4b-4c61-8a52-0e6f3b7d2a91", resources)
    assert [r.resource_type for r in resources if matcher.is_about_patient(r)] == [
        "Patient",
        "Observation",
        "MedicationRequest",
    ]


def test_urn_that_is_not_the_patient_entry_does_not_match() -> None:
    resources = [patient("123", "urn:uuid:5c3e1f0a-9d4b-4c61-8a52-0e6f3b7d2a91")]
    matcher = PatientMatcher.for_patient("123", resources)
    assert not matcher.is_about_patient(
        condition({"reference": "urn:uuid:0b8d6c2e-3f41-4a7e-9c15-6d2f8e4a1b37"})
    )


def test_urn_naming_the_patient_id_without_a_patient_entry_does_not_match() -> None:
    matcher = PatientMatcher.for_patient("5c3e1f0a-9d4b-4c61-8a52-0e6f3b7d2a91", [])
    assert not matcher.is_about_patient(
        condition({"reference": "urn:uuid:5c3e1f0a-9d4b-4c61-8a52-0e6f3b7d2a91"})
    )


def test_absolute_full_url_of_the_patient_entry_matches() -> None:
    resources = [patient("123", "https://ehr.example.org/fhir/Patient/123")]
    matcher = PatientMatcher.for_patient("123", resources)
    assert matcher.is_about_patient(condition({"reference": "https://ehr.example.org/fhir/Patient/123"}))


@pytest.mark.parametrize("patient_id", ["", "Patient/123"])
def test_patient_id_must_be_a_logical_id(patient_id: str) -> None:
    with pytest.raises(InputError, match="not a FHIR logical id"):
        PatientMatcher.for_patient(patient_id, [])


def test_infer_takes_the_patient_resource() -> None:
    resources = read_path(DATA / "transaction-urn.json").resources
    assert PatientMatcher.infer(resources).patient_id == "5c3e1f0a-9d4b-4c61-8a52-0e6f3b7d2a91"


def test_infer_keeps_the_urn_alias_of_the_patient_entry() -> None:
    resources = read_path(DATA / "transaction-urn.json").resources
    observation = next(r for r in resources if r.resource_type == "Observation")
    assert PatientMatcher.infer(resources).is_about_patient(observation)


def test_infer_takes_the_single_subject_when_no_patient_resource_is_present() -> None:
    resources = [condition({"reference": "Patient/123"}), condition({"reference": "Patient/123/_history/1"})]
    assert PatientMatcher.infer(resources).patient_id == "123"


def test_infer_counts_versions_of_one_patient_once() -> None:
    assert PatientMatcher.infer([patient("123"), patient("123")]).patient_id == "123"


def test_infer_rejects_several_patient_resources() -> None:
    with pytest.raises(InputError, match="holds 2 different patients; give the id"):
        PatientMatcher.infer(read_path(DATA / "bulk-export").resources)


def test_infer_rejects_several_subjects_without_patient_resource() -> None:
    resources = [condition({"reference": "Patient/123"}), condition({"reference": "Patient/456"})]
    with pytest.raises(InputError, match="holds 2 different patients"):
        PatientMatcher.infer(resources)


def test_infer_rejects_input_without_any_patient() -> None:
    with pytest.raises(InputError, match="cannot tell which patient"):
        PatientMatcher.infer([condition({"reference": "#p1"})])


def test_patient_ids_lists_each_patient_once_in_input_order() -> None:
    assert patient_ids([patient("456"), patient("123"), patient("456")]) == ["456", "123"]


def test_infer_lists_the_patients_and_names_the_option() -> None:
    with pytest.raises(InputError, match=r"\(--patient ID, or patient_id= in Python\): pat-1042, pat-2210$"):
        PatientMatcher.infer(read_path(DATA / "bulk-export").resources)


def test_a_named_patient_in_the_input_passes_the_check() -> None:
    check_in_input("pat-2210", read_path(DATA / "bulk-export").resources)


def test_a_named_patient_only_referenced_passes_the_check() -> None:
    check_in_input("123", [condition({"reference": "Patient/123"})])


def test_a_named_patient_not_in_the_input_is_an_error_listing_those_found() -> None:
    with pytest.raises(
        InputError, match=r"^patient 'pat-104' is not in the input; the patients in it: pat-1042, pat-2210$"
    ):
        check_in_input("pat-104", read_path(DATA / "bulk-export").resources)


def test_a_named_patient_in_input_naming_none_is_an_error() -> None:
    with pytest.raises(InputError, match="it names no patient"):
        check_in_input("123", [condition({"reference": "#p1"})])


def test_patient_of_a_patient_is_its_own_id() -> None:
    assert patient_of({"resourceType": "Patient", "id": "123"}) == "123"


@pytest.mark.parametrize("key", ["subject", "patient"])
def test_patient_of_a_resource_is_the_patient_its_reference_points_at(key: str) -> None:
    assert patient_of({"resourceType": "MedicationStatement", key: {"reference": "Patient/123"}}) == "123"


def test_patient_of_a_resource_with_only_a_urn_reference_is_unknown() -> None:
    assert (
        patient_of(condition({"reference": "urn:uuid:7d7e7b4c-0b0c-4c3a-9a3f-1e2d3c4b5a69"}).resource) is None
    )


def test_references_to_the_patient_become_plain() -> None:
    urn = "urn:uuid:7d7e7b4c-0b0c-4c3a-9a3f-1e2d3c4b5a69"
    matcher = PatientMatcher.for_patient("123", [patient("123", full_url=urn)])
    plain = matcher.with_plain_references(condition({"reference": urn, "display": "Ann"}).resource)
    assert plain["subject"] == {"reference": "Patient/123", "display": "Ann"}


def test_references_to_someone_else_stay_as_they_are() -> None:
    other = condition({"reference": "Patient/456"}).resource
    assert MATCHER.with_plain_references(other) == other
