"""The checker validates the FHIR resources inside actions, allows FHIR's nulls in primitive arrays, and
cites the rule every violation breaks."""

import re
from typing import Any

from cds.testing.checker import check_cds_response


def _referral(response_json: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"]
    return resource


def test_service_request_without_status_is_reported(response_json: dict[str, Any]) -> None:
    del _referral(response_json)["status"]
    assert check_cds_response(response_json) == [
        "cards[0].suggestions[0].actions[0].resource.status: Value for the field 'status' is required. "
        "[FHIR R4 ServiceRequest.status]"
    ]


def test_nested_element_of_the_wrong_type_is_reported_at_its_path(response_json: dict[str, Any]) -> None:
    _referral(response_json)["code"]["coding"][0]["system"] = 42
    [violation] = check_cds_response(response_json)
    assert violation.startswith("cards[0].suggestions[0].actions[0].resource.code.coding[0].system: ")
    assert violation.endswith("[FHIR R4 ServiceRequest.code.coding.system]")


def test_unknown_resource_type_is_reported(response_json: dict[str, Any]) -> None:
    _referral(response_json)["resourceType"] = "Referral"
    assert check_cds_response(response_json) == [
        "cards[0].suggestions[0].actions[0].resource.resourceType: 'Referral' is not a FHIR resource type "
        "[FHIR R4]"
    ]


def test_unknown_element_in_a_resource_is_reported(response_json: dict[str, Any]) -> None:
    _referral(response_json)["urgency"] = "soon"
    [violation] = check_cds_response(response_json)
    assert violation.startswith("cards[0].suggestions[0].actions[0].resource.urgency: ")


def test_null_in_a_primitive_array_with_its_underscore_sibling_passes(response_json: dict[str, Any]) -> None:
    _referral(response_json)["contained"] = [
        {
            "resourceType": "Patient",
            "id": "p",
            "name": [
                {
                    "given": ["Rosa", None],
                    "_given": [None, {"extension": [{"url": "http://example.org/x", "valueString": "M."}]}],
                }
            ],
        }
    ]
    assert check_cds_response(response_json) == []


def test_null_in_a_primitive_array_without_its_sibling_is_reported(response_json: dict[str, Any]) -> None:
    _referral(response_json)["contained"] = [
        {"resourceType": "Patient", "id": "p", "name": [{"given": ["Rosa", None]}]}
    ]
    assert (
        "cards[0].suggestions[0].actions[0].resource.contained[0].name[0].given[1]: null is not allowed; "
        "omit the field instead "
        "[FHIR R4 §JSON Representation: no null or empty values, except null in primitive arrays]"
    ) in check_cds_response(response_json)


def test_null_in_a_card_array_is_never_allowed() -> None:
    card = {"summary": "s", "indicator": "info", "source": {"label": "x"}, "links": [None]}
    assert check_cds_response({"cards": [card]}) == [
        "cards[0].links[0]: null is not allowed; omit the field instead "
        "[CDS Hooks 2.0 §CDS Service Response: optional fields without a value are omitted]"
    ]


def test_every_violation_cites_a_section_of_the_spec(response_json: dict[str, Any]) -> None:
    card = response_json["cards"][0]
    card["indicator"] = "hard-stop"
    card["links"][0]["appContext"] = "x"
    del card["suggestions"][1]["label"]
    del _referral(response_json)["status"]
    violations = check_cds_response(response_json)
    assert len(violations) == 4
    assert all(re.search(r" \[(CDS Hooks 2\.0 §|FHIR R4 )[^\]]+\]$", v) for v in violations), violations


def test_violations_cite_the_section_of_the_element_they_are_in(response_json: dict[str, Any]) -> None:
    card = response_json["cards"][0]
    card["indicator"] = "hard-stop"
    card["links"][0]["type"] = "relative"
    del card["suggestions"][1]["label"]
    del card["suggestions"][0]["actions"][0]["description"]
    cited = [v.rsplit(" [", 1)[1] for v in check_cds_response(response_json)]
    assert cited == [
        "CDS Hooks 2.0 §Card Attributes]",
        "CDS Hooks 2.0 §Action]",
        "CDS Hooks 2.0 §Suggestion]",
        "CDS Hooks 2.0 §Link]",
    ]
