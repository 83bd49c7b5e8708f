"""The JSON the models write is spec-exact and reads back to the same models."""

from typing import Any

import orjson

from cds.cards import Action, Card, CdsResponse, Source, to_dict, to_json


def test_example_response_is_written_back_unchanged(response_json: dict[str, Any]) -> None:
    assert orjson.loads(to_json(CdsResponse.model_validate(response_json))) == response_json


def test_written_response_reads_back_equal(response_json: dict[str, Any]) -> None:
    response = CdsResponse.model_validate(response_json)
    assert CdsResponse.model_validate_json(to_json(response)) == response


def test_written_response_is_orjson_of_its_dict_byte_for_byte(response_json: dict[str, Any]) -> None:
    response = CdsResponse.model_validate(response_json)
    assert to_json(response) == orjson.dumps(to_dict(response))


def test_response_without_cards_keeps_the_empty_cards_array() -> None:
    assert to_json(CdsResponse(cards=[])) == b'{"cards":[]}'


def test_unset_optional_fields_are_omitted() -> None:
    card = Card(
        uuid="f653ff6e-ba55-4092-90fe-7bc6a1d8d44e",
        summary="No red flags",
        indicator="info",
        source=Source(label="Spasm CDS"),
    )
    assert to_dict(CdsResponse(cards=[card])) == {
        "cards": [
            {
                "uuid": "f653ff6e-ba55-4092-90fe-7bc6a1d8d44e",
                "summary": "No red flags",
                "indicator": "info",
                "source": {"label": "Spasm CDS"},
            }
        ]
    }


def test_system_actions_are_written_after_cards() -> None:
    update = Action(
        type="update",
        description="Mark the draft order as revoked",
        resource={"resourceType": "MedicationRequest", "id": "draft-1", "status": "revoked"},
    )
    assert to_json(CdsResponse(cards=[], systemActions=[update])) == (
        b'{"cards":[],"systemActions":[{"type":"update","description":"Mark the draft order as revoked",'
        b'"resource":{"resourceType":"MedicationRequest","id":"draft-1","status":"revoked"}}]}'
    )


def test_changing_the_callers_resource_afterwards_does_not_change_the_action() -> None:
    resource: dict[str, Any] = {"resourceType": "ServiceRequest", "code": {"text": "Neurology referral"}}
    action = Action(type="create", description="Refer", resource=resource)
    resource["code"]["text"] = ""
    assert action.resource == {"resourceType": "ServiceRequest", "code": {"text": "Neurology referral"}}
