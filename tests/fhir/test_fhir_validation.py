import copy
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.fhir import RawResource, ValidationIssue, validate_resource


def potassium(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "k1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": "Patient/pat-1042"},
        "valueQuantity": {
            "value": 3.1,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        },
    } | extra


def raw(resource: dict[str, Any]) -> RawResource:
    return RawResource(resource, None, "test")


def described(issues: list[ValidationIssue]) -> list[str]:
    return [f"{issue.severity} {issue}" for issue in issues]


def test_valid_observation_validates_without_issues() -> None:
    model, issues = validate_resource(raw(potassium()), Observation)
    assert model is not None and model.valueQuantity is not None
    assert (float(model.valueQuantity.value or 0), issues) == (3.1, [])


def test_stu3_context_is_ignored_with_a_warning() -> None:
    model, issues = validate_resource(raw(potassium(context={"reference": "Encounter/e301"})), Observation)
    assert model is not None
    assert described(issues) == ["warning Observation.context: ignored unknown element"]


def test_validation_never_changes_the_raw_resource() -> None:
    resource = potassium(
        context={"reference": "Encounter/e301"}, component=[{"code": {"text": "a"}, "bar": 1}]
    )
    before = copy.deepcopy(resource)
    validate_resource(raw(resource), Observation)
    assert resource == before


def test_unknown_nested_elements_are_ignored_with_their_path() -> None:
    resource = potassium(component=[{"code": {"text": "a"}, "valueString": "x", "bar": 2}])
    resource["valueQuantity"] = resource["valueQuantity"] | {"comparatorText": "<"}
    model, issues = validate_resource(raw(resource), Observation)
    assert model is not None
    assert sorted(described(issues)) == [
        "warning Observation.component[0].bar: ignored unknown element",
        "warning Observation.valueQuantity.comparatorText: ignored unknown element",
    ]


def test_invalid_value_returns_none_and_names_the_element() -> None:
    resource = potassium()
    resource["valueQuantity"] = {"value": "3,1", "unit": "mmol/L"}
    model, issues = validate_resource(raw(resource), Observation)
    assert model is None
    assert [issue.path for issue in issues] == ["Observation.valueQuantity.value"]


def test_errors_come_before_warnings_when_the_resource_is_invalid() -> None:
    resource = potassium(context={"reference": "Encounter/e301"}, effectiveDateTime="yesterday")
    model, issues = validate_resource(raw(resource), Observation)
    assert model is None
    assert [(issue.severity, issue.path) for issue in issues] == [
        ("error", "Observation.effectiveDateTime"),
        ("warning", "Observation.context"),
    ]


def test_missing_required_element_is_reported() -> None:
    resource = potassium()
    del resource["status"]
    _, issues = validate_resource(raw(resource), Observation)
    assert described(issues) == ["error Observation.status: Value for the field 'status' is required."]


def test_two_values_for_one_choice_element_are_reported() -> None:
    model, issues = validate_resource(raw(potassium(valueString="3.1 mmol/L")), Observation)
    assert model is None
    assert "but got multiple" in issues[0].message


def test_pydantic_wrapper_steps_are_left_out_of_paths() -> None:
    _, issues = validate_resource(raw(potassium(subject=[{"reference": "Patient/pat-1042"}])), Observation)
    assert [issue.path for issue in issues] == ["Observation.subject"]


def test_model_for_another_resource_type_is_reported() -> None:
    model, issues = validate_resource(raw(potassium()), Condition)
    assert (model, described(issues)) == (
        None,
        ["error Observation: expected a Condition resource, found Observation"],
    )


def test_contained_resource_of_unknown_type_is_reported_not_raised() -> None:
    model, issues = validate_resource(
        raw(potassium(contained=[{"resourceType": "Specimen2", "id": "s"}])), Observation
    )
    assert model is None
    assert described(issues) == ["error Observation: cannot be validated (KeyError: 'R4.Specimen2Type')"]


def test_primitive_extension_that_is_not_an_object_is_reported_not_raised() -> None:
    model, issues = validate_resource(raw(potassium(_status="final")), Observation)
    assert (model, [issue.severity for issue in issues]) == (None, ["error"])


def test_contained_resource_type_that_is_not_text_is_reported_not_raised() -> None:
    model, issues = validate_resource(raw(potassium(contained=[{"resourceType": 5}])), Observation)
    assert (model, [issue.severity for issue in issues]) == (None, ["error"])


def test_us_core_quantity_without_ucum_code_validates() -> None:
    resource = potassium()
    resource["valueQuantity"] = {"value": 9.1, "unit": "mg/dL"}
    model, issues = validate_resource(raw(resource), Observation)
    assert (model is not None, issues) == (True, [])


element_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["resourceType", "reference", "coding", "system", "code", "value", "url", "extension", "x"]
            ),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)
element_names = st.sampled_from(
    [
        "status",
        "code",
        "subject",
        "valueQuantity",
        "component",
        "contained",
        "extension",
        "meta",
        "_status",
        "onset",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([Observation, Condition, MedicationRequest, Patient]),
    st.dictionaries(element_names, element_values),
)
def test_arbitrary_element_values_never_raise(
    model: type[Observation | Condition | MedicationRequest | Patient], elements: dict[str, Any]
) -> None:
    resource = elements | {"resourceType": model.get_resource_type()}
    before = copy.deepcopy(resource)
    validated, issues = validate_resource(raw(resource), model)
    assert resource == before
    assert validated is not None or any(issue.severity == "error" for issue in issues)
