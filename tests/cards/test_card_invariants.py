"""Each CDS Hooks rule the models enforce: a response that breaks it cannot be built."""

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cds.cards import Action, Card, CdsResponse, Link, Source
from cds.cards.models import _unsendable_json_at


def refusal(response: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        CdsResponse.model_validate(response)
    return str(caught.value)


def test_example_response_is_accepted(response_json: dict[str, Any]) -> None:
    CdsResponse.model_validate(response_json)


def test_summary_of_140_characters_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["summary"] = "x" * 140
    assert "under 140 characters, got 140" in refusal(response_json)


def test_summary_of_139_characters_is_accepted(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["summary"] = "x" * 139
    CdsResponse.model_validate(response_json)


def test_empty_summary_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["summary"] = ""
    assert "cards.0.summary" in refusal(response_json)


def test_whitespace_only_label_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["label"] = "  "
    assert "cards.0.suggestions.0.label" in refusal(response_json)


def test_card_without_source_is_refused(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["source"]
    assert "cards.0.source\n  Field required" in refusal(response_json)


def test_hard_stop_indicator_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["indicator"] = "hard-stop"
    assert "'info', 'warning' or 'critical'" in refusal(response_json)


def test_empty_links_list_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][1]["links"] = []
    assert "must not be an empty list" in refusal(response_json)


def test_empty_system_actions_list_is_refused(response_json: dict[str, Any]) -> None:
    response_json["systemActions"] = []
    assert "systemActions\n  Value error, must not be an empty list" in refusal(response_json)


def test_empty_string_inside_a_resource_is_refused(response_json: dict[str, Any]) -> None:
    action = response_json["cards"][0]["suggestions"][0]["actions"][0]
    action["resource"]["code"]["coding"][0]["display"] = ""
    assert "ServiceRequest.code.coding[0].display: empty" in refusal(response_json)


def test_null_inside_a_resource_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"]["subject"] = None
    assert "ServiceRequest.subject: null is not allowed" in refusal(response_json)


def test_empty_object_inside_a_resource_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"]["subject"] = {}
    assert "ServiceRequest.subject: empty object" in refusal(response_json)


def test_empty_list_inside_a_resource_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"]["code"]["coding"] = []
    assert "ServiceRequest.code.coding: empty list" in refusal(response_json)


def test_non_finite_number_inside_a_resource_is_refused() -> None:
    """orjson writes NaN as null, which the spec forbids."""
    with pytest.raises(ValidationError, match="nan is not a JSON number"):
        Action(
            type="create",
            description="d",
            resource={"resourceType": "Observation", "valueDecimal": float("nan")},
        )


def test_suggestions_without_selection_behavior_are_refused(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["selectionBehavior"]
    assert "suggestions need selectionBehavior" in refusal(response_json)


def test_two_recommended_suggestions_under_at_most_one_are_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][1]["isRecommended"] = True
    assert "at-most-one allows one isRecommended suggestion, got 2" in refusal(response_json)


def test_two_recommended_suggestions_under_any_are_accepted(response_json: dict[str, Any]) -> None:
    card = response_json["cards"][0]
    card["suggestions"][1]["isRecommended"] = True
    card["selectionBehavior"] = "any"
    CdsResponse.model_validate(response_json)


def test_string_is_recommended_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["isRecommended"] = "true"
    assert "cards.0.suggestions.0.isRecommended" in refusal(response_json)


def test_action_without_description_is_refused(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["suggestions"][0]["actions"][0]["description"]
    assert "actions.0.description\n  Field required" in refusal(response_json)


@pytest.mark.parametrize("kind", ["create", "update"])
def test_create_or_update_without_resource_is_refused(kind: str) -> None:
    with pytest.raises(ValidationError, match=f"{kind} needs resource"):
        Action(type=kind, description="Change the order")


def test_delete_without_resource_id_is_refused(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["suggestions"][1]["actions"][0]["resourceId"]
    assert "delete needs resourceId" in refusal(response_json)


def test_delete_carrying_a_resource_is_refused(response_json: dict[str, Any]) -> None:
    action = response_json["cards"][0]["suggestions"][1]["actions"][0]
    action["resource"] = {"resourceType": "MedicationRequest", "id": "draft-1"}
    assert "delete must not carry a resource" in refusal(response_json)


def test_stringified_resource_is_refused(response_json: dict[str, Any]) -> None:
    action = response_json["cards"][0]["suggestions"][0]["actions"][0]
    action["resource"] = '{"resourceType": "ServiceRequest"}'
    assert "actions.0.resource\n  Input should be a valid dictionary" in refusal(response_json)


def test_resource_without_resource_type_is_refused(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["suggestions"][0]["actions"][0]["resource"]["resourceType"]
    assert "must be a whole FHIR resource with a resourceType" in refusal(response_json)


def test_resource_id_that_is_not_a_relative_reference_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][1]["actions"][0]["resourceId"] = "draft-1"
    assert "must be a relative reference like 'ServiceRequest/123'" in refusal(response_json)


def test_app_context_on_absolute_link_is_refused() -> None:
    with pytest.raises(ValidationError, match="appContext is only allowed on smart links"):
        Link(label="Guideline", url="https://example.org/g", type="absolute", appContext="x=1")


def test_unknown_link_type_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["links"][0]["type"] = "relative"
    assert "cards.0.links.0.type" in refusal(response_json)


def test_override_reason_without_display_is_refused(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["overrideReasons"][0]["display"]
    assert "overrideReasons.0.display\n  Field required" in refusal(response_json)


def test_coding_without_system_is_refused(response_json: dict[str, Any]) -> None:
    del response_json["cards"][0]["source"]["topic"]["system"]
    assert "source.topic.system\n  Field required" in refusal(response_json)


@pytest.mark.parametrize(
    "url", ["/rules/red-flags", "ftp://example.org/icon.png", "https://", "https://example.org/a b"]
)
def test_url_that_is_not_absolute_http_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="must be an absolute http"):
        Source(label="Spasm CDS", url=url)


def test_malformed_card_uuid_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["uuid"] = "fa95a5b7060848009 8da63f2483bd215"
    assert "cards.0.uuid\n  Value error, must be a UUID" in refusal(response_json)


def test_malformed_suggestion_uuid_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["suggestions"][0]["uuid"] = "suggestion-1"
    assert "suggestions.0.uuid\n  Value error, must be a UUID" in refusal(response_json)


def test_card_without_uuid_is_refused(response_json: dict[str, Any]) -> None:
    """Stricter than the spec: feedback cannot name a card that has no uuid."""
    del response_json["cards"][1]["uuid"]
    assert "cards.1.uuid\n  Field required" in refusal(response_json)


def test_repeated_card_uuid_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][1]["uuid"] = response_json["cards"][0]["uuid"]
    assert "cards[1] repeats the uuid of cards[0]" in refusal(response_json)


def test_repeated_suggestion_uuid_within_a_card_is_refused(response_json: dict[str, Any]) -> None:
    suggestions = response_json["cards"][0]["suggestions"]
    suggestions[1]["uuid"] = suggestions[0]["uuid"]
    assert "suggestions[1] repeats the uuid of suggestions[0]" in refusal(response_json)


def test_repeated_suggestion_uuid_across_cards_is_refused(response_json: dict[str, Any]) -> None:
    first, second = response_json["cards"]
    second["suggestions"] = [dict(first["suggestions"][1], label="Withdraw it here too")]
    second["selectionBehavior"] = "any"
    message = refusal(response_json)
    assert "cards[1].suggestions[0] repeats the uuid of cards[0].suggestions[1]" in message


def test_unknown_field_is_refused(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["selectionbehavior"] = "any"
    assert "cards.0.selectionbehavior\n  Extra inputs are not permitted" in refusal(response_json)


def test_card_cannot_be_changed_after_it_is_built(response_json: dict[str, Any]) -> None:
    card = Card.model_validate(response_json["cards"][1])
    with pytest.raises(ValidationError, match="frozen"):
        card.summary = ""  # type: ignore[misc]


def test_integer_beyond_64_bits_inside_a_resource_is_refused() -> None:
    """orjson cannot write it, so the response would fail only when sent."""
    with pytest.raises(ValidationError, match="does not fit in 64 bits"):
        Action(
            type="create", description="d", resource={"resourceType": "Observation", "valueInteger": 2**64}
        )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**65), max_value=2**65)
    | st.floats()
    | st.sampled_from(["", " ", "x", " x "]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2)
    ),
    max_leaves=8,
)


def _allowed(value: Any) -> bool:
    """The spec's rule, stated plainly: no null, blank string, empty list or object, non-finite number,
    or integer beyond 64 bits anywhere."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return bool(value) and all(_allowed(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(_allowed(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return value is not None


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_resource_check_refuses_exactly_what_the_spec_forbids(value: Any) -> None:
    assert _allowed(value) == (_unsendable_json_at(value, "Resource") is None)
