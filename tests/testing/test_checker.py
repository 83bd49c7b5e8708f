"""The QA checker reports each CDS Hooks 2.0 response rule it is given broken, at the JSON path."""

import re
from typing import Any

import orjson
import pytest

from cds.testing.checker import assert_valid_cds_response, check_cds_response

CITATION = re.compile(r" \[[^\]]+\]$")


def problems(body: Any) -> list[str]:
    """The violations without the rule each cites (the citation tests below cover those)."""
    return [CITATION.sub("", violation) for violation in check_cds_response(body)]


def test_example_response_has_no_violations(response_json: dict[str, Any]) -> None:
    assert problems(response_json) == []


def test_response_body_may_be_given_as_bytes(response_json: dict[str, Any]) -> None:
    assert problems(orjson.dumps(response_json)) == []


def test_response_body_may_be_given_as_text(response_json: dict[str, Any]) -> None:
    assert problems(orjson.dumps(response_json).decode()) == []


def test_response_without_cards_is_valid() -> None:
    assert problems(b'{"cards": []}') == []


def test_body_that_is_not_json_is_reported() -> None:
    [violation] = problems(b'{"cards": [}')
    assert violation.startswith("$: not valid JSON")


def test_body_that_is_not_an_object_is_reported() -> None:
    assert problems(b"[]") == ["$: expected a JSON object, got array"]


def test_missing_cards_is_reported() -> None:
    assert problems({}) == ["$: missing required field 'cards'"]


def test_cards_that_is_not_an_array_is_reported() -> None:
    assert problems({"cards": "none"}) == ["cards: expected an array, got string"]


@pytest.mark.parametrize("field", ["summary", "indicator", "source"])
def test_missing_required_card_field_is_reported(response_json: dict[str, Any], field: str) -> None:
    del response_json["cards"][1][field]
    assert problems(response_json) == [f"cards[1]: missing required field '{field}'"]


def test_summary_of_140_characters_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["summary"] = "x" * 140
    assert problems(response_json) == ["cards[0].summary: must be under 140 characters, got 140"]


def test_summary_of_139_characters_passes(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["summary"] = "x" * 139
    assert problems(response_json) == []


def test_summary_that_is_not_a_string_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["summary"] = 42
    assert problems(response_json) == ["cards[0].summary: expected a string, got number"]


def test_hard_stop_indicator_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["indicator"] = "hard-stop"
    assert problems(response_json) == [
        "cards[0].indicator: must be one of info, warning, critical; got 'hard-stop'"
    ]


def test_null_field_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["detail"] = None
    assert problems(response_json) == ["cards[0].detail: null is not allowed; omit the field instead"]


def test_empty_string_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["detail"] = ""
    assert problems(response_json) == [
        "cards[0].detail: empty or whitespace-only string is not allowed; omit the field instead"
    ]


def test_whitespace_only_string_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["source"]["label"] = " \n"
    assert problems(response_json) == [
        "cards[0].source.label: empty or whitespace-only string is not allowed; omit the field instead"
    ]


def test_empty_array_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][1]["links"] = []
    assert problems(response_json) == ["cards[1].links: empty array is not allowed; omit the field instead"]


def test_empty_system_actions_array_is_reported(response_json: dict[str, Any]) -> None:
    response_json["systemActions"] = []
    assert problems(response_json) == ["systemActions: empty array is not allowed; omit the field instead"]


def test_empty_object_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["extension"] = {}
    assert problems(response_json) == [
        "cards[0].extension: empty object is not allowed; omit the field instead"
    ]


def test_null_inside_a_resource_is_reported(response_json: dict[str, Any]) -> None:
    resource = response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"]
    resource["code"]["coding"][0]["display"] = None
    assert problems(response_json) == [
        "cards[0].suggestions[0].actions[0].resource.code.coding[0].display: null is not allowed; "
        "omit the field instead"
    ]


def test_non_json_value_in_a_mapping_is_reported() -> None:
    assert problems({"cards": [], "systemActions": {1, 2}}) == [
        "systemActions: non-JSON set is not a JSON value",
        "systemActions: expected an array, got non-JSON set",
    ]


def test_suggestions_without_selection_behavior_are_reported(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["selectionBehavior"]
    assert problems(response_json) == [
        "cards[0]: suggestions need selectionBehavior ('at-most-one' or 'any')"
    ]


def test_unknown_selection_behavior_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["selectionBehavior"] = "exactly-one"
    assert problems(response_json) == [
        "cards[0].selectionBehavior: must be one of at-most-one, any; got 'exactly-one'"
    ]


def test_two_recommended_suggestions_under_at_most_one_are_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][1]["isRecommended"] = True
    assert problems(response_json) == ["cards[0]: at-most-one allows one isRecommended suggestion, got 2"]


def test_two_recommended_suggestions_under_any_pass(response_json: dict[str, Any]) -> None:
    card = response_json["cards"][0]
    card["suggestions"][1]["isRecommended"] = True
    card["selectionBehavior"] = "any"
    assert problems(response_json) == []


def test_is_recommended_that_is_not_a_boolean_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["isRecommended"] = "true"
    assert problems(response_json) == [
        "cards[0].suggestions[0].isRecommended: expected a boolean, got string"
    ]


def test_suggestion_without_label_is_reported(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["suggestions"][1]["label"]
    assert problems(response_json) == ["cards[0].suggestions[1]: missing required field 'label'"]


def test_action_without_description_is_reported(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["suggestions"][0]["actions"][0]["description"]
    assert problems(response_json) == [
        "cards[0].suggestions[0].actions[0]: missing required field 'description'"
    ]


def test_unknown_action_type_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["actions"][0]["type"] = "insert"
    assert problems(response_json) == [
        "cards[0].suggestions[0].actions[0].type: must be one of create, update, delete; got 'insert'"
    ]


@pytest.mark.parametrize("kind", ["create", "update"])
def test_create_or_update_without_resource_is_reported(kind: str) -> None:
    action = {"type": kind, "description": "Change the order", "resourceId": "ServiceRequest/1"}
    assert problems({"cards": [], "systemActions": [action]}) == [
        f"systemActions[0]: {kind} needs resource (the whole FHIR resource)"
    ]


def test_delete_without_resource_id_is_reported(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["suggestions"][1]["actions"][0]["resourceId"]
    assert problems(response_json) == ["cards[0].suggestions[1].actions[0]: delete needs resourceId"]


def test_delete_carrying_a_resource_is_reported(response_json: dict[str, Any]) -> None:
    action = response_json["cards"][0]["suggestions"][1]["actions"][0]
    action["resource"] = {"resourceType": "MedicationRequest", "id": "draft-1"}
    assert problems(response_json) == [
        "cards[0].suggestions[1].actions[0]: delete must not carry a resource; name the target in resourceId"
    ]


def test_stringified_resource_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"] = (
        '{"resourceType": "ServiceRequest"}'
    )
    assert problems(response_json) == [
        "cards[0].suggestions[0].actions[0].resource: expected an object, got string"
    ]


def test_resource_without_resource_type_is_reported(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"]["resourceType"]
    assert problems(response_json) == [
        "cards[0].suggestions[0].actions[0].resource: missing required field 'resourceType'"
    ]


def test_resource_id_that_is_not_a_relative_reference_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][1]["actions"][0]["resourceId"] = "draft-1"
    assert problems(response_json) == [
        "cards[0].suggestions[1].actions[0].resourceId: "
        "must be a relative reference like 'ServiceRequest/123'; got 'draft-1'"
    ]


def test_link_without_type_is_reported(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["links"][0]["type"]
    assert problems(response_json) == ["cards[0].links[0]: missing required field 'type'"]


def test_unknown_link_type_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["links"][0]["type"] = "relative"
    assert problems(response_json) == [
        "cards[0].links[0].type: must be one of absolute, smart; got 'relative'"
    ]


def test_app_context_on_absolute_link_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["links"][0]["appContext"] = "topic=cramps"
    assert problems(response_json) == ["cards[0].links[0]: appContext is only allowed on smart links"]


@pytest.mark.parametrize(
    "url", ["/guidance/ng42", "ftp://example.org/ng42", "https://", "https://nice.org.uk/a b"]
)
def test_link_url_that_is_not_absolute_http_is_reported(response_json: dict[str, Any], url: str) -> None:
    response_json["cards"][0]["links"][0]["url"] = url
    assert problems(response_json) == [f"cards[0].links[0].url: must be an absolute http(s) URL; got {url!r}"]


def test_relative_source_icon_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["source"]["icon"] = "icon-100.png"
    assert problems(response_json) == [
        "cards[0].source.icon: must be an absolute http(s) URL; got 'icon-100.png'"
    ]


def test_override_reason_without_display_is_reported(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["overrideReasons"][0]["display"]
    assert problems(response_json) == ["cards[0].overrideReasons[0]: missing required field 'display'"]


@pytest.mark.parametrize("field", ["system", "code"])
def test_coding_without_system_or_code_is_reported(response_json: dict[str, Any], field: str) -> None:
    del response_json["cards"][0]["source"]["topic"][field]
    assert problems(response_json) == [f"cards[0].source.topic: missing required field '{field}'"]


def test_topic_display_is_optional(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["source"]["topic"]["display"]
    assert problems(response_json) == []


def test_malformed_card_uuid_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][1]["uuid"] = "card-2"
    assert problems(response_json) == ["cards[1].uuid: must be a UUID (8-4-4-4-12 hex digits); got 'card-2'"]


def test_malformed_suggestion_uuid_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["uuid"] = "{1ca461e6-d6ad-4270-87dd-b0aed7aa18a6}"
    assert problems(response_json) == [
        "cards[0].suggestions[0].uuid: must be a UUID (8-4-4-4-12 hex digits); "
        "got '{1ca461e6-d6ad-4270-87dd-b0aed7aa18a6}'"
    ]


def test_card_without_uuid_passes(response_json: dict[str, Any]) -> None:
    """The spec makes uuid optional; only feedback needs it."""
    del response_json["cards"][1]["uuid"]
    assert problems(response_json) == []


def test_repeated_card_uuid_is_reported(response_json: dict[str, Any]) -> None:
    first, second = response_json["cards"]
    second["uuid"] = first["uuid"]
    assert problems(response_json) == [f"cards[1].uuid: repeats the uuid of cards[0] ({first['uuid']})"]


def test_repeated_suggestion_uuid_across_cards_is_reported(response_json: dict[str, Any]) -> None:
    first, second = response_json["cards"]
    second["suggestions"] = [dict(first["suggestions"][1], label="Withdraw it here too")]
    second["selectionBehavior"] = "any"
    assert problems(response_json) == [
        "cards[1].suggestions[0].uuid: repeats the uuid of cards[0].suggestions[1] "
        f"({first['suggestions'][1]['uuid']})"
    ]


def test_unknown_field_is_reported(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["selectionbehavior"] = "any"
    assert problems(response_json) == [
        "cards[0]: unknown field 'selectionbehavior'; custom data belongs under 'extension'"
    ]


def test_extension_object_passes(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["extension"] = {"org.example.spasm-cds": {"ruleId": "red-flag-weakness"}}
    assert problems(response_json) == []


def test_extension_that_is_not_an_object_is_reported(response_json: dict[str, Any]) -> None:
    response_json["extension"] = "spasm-cds"
    assert problems(response_json) == ["extension: expected an object, got string"]


def test_every_violation_is_reported_not_just_the_first(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["indicator"] = "hard-stop"
    del response_json["cards"][1]["source"]
    assert len(problems(response_json)) == 2


def test_assert_valid_passes_a_valid_response(response_json: dict[str, Any]) -> None:
    assert_valid_cds_response(response_json)


def test_assert_valid_lists_every_violation(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["indicator"] = "hard-stop"
    del response_json["cards"][1]["source"]
    with pytest.raises(AssertionError) as caught:
        assert_valid_cds_response(response_json)
    assert str(caught.value) == (
        "not a valid CDS Hooks 2.0 response (2 violations):\n"
        "  - cards[0].indicator: must be one of info, warning, critical; got 'hard-stop' "
        "[CDS Hooks 2.0 §Card Attributes]\n"
        "  - cards[1]: missing required field 'source' [CDS Hooks 2.0 §Card Attributes]"
    )
