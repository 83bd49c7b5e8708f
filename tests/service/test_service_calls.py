"""POST /cds-services/{id}: what a client sends, and the answer it gets for each kind of mistake."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from service_helpers import HOOK_INSTANCE, PATIENT_VIEW, MakeClient, hook_call
from starlette.testclient import TestClient


def _issue(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/fhir+json"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue: dict[str, Any] = outcome["issue"][0]
    return issue


def test_urgent_record_gets_one_critical_card(client: TestClient, urgent_prefetch: dict[str, Any]) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    assert response.status_code == 200
    assert [card["indicator"] for card in response.json()["cards"]] == ["critical"]


def test_encounter_start_runs_the_same_rules(client: TestClient, urgent_prefetch: dict[str, Any]) -> None:
    body = hook_call(urgent_prefetch, hook="encounter-start")
    body["context"]["encounterId"] = "enc-1"
    response = client.post("/cds-services/spasm-encounter-start", json=body)
    assert response.status_code == 200
    assert [card["indicator"] for card in response.json()["cards"]] == ["critical"]


def test_unknown_fields_and_extensions_are_ignored(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    body = hook_call(urgent_prefetch, extension={"org.example.flag": True}, somethingNew=[1, 2])
    body["context"]["extension"] = {"org.example.x": "y"}
    body["prefetch"]["unrequestedKey"] = "not even FHIR"
    assert client.post(PATIENT_VIEW, json=body).status_code == 200


def test_malformed_json_is_a_400_naming_the_position(client: TestClient) -> None:
    response = client.post(PATIENT_VIEW, content=b'{"hook": "patient-view",')
    assert response.status_code == 400
    assert "line 1, column" in _issue(response)["diagnostics"]


def test_a_body_that_is_not_an_object_is_a_400(client: TestClient) -> None:
    response = client.post(PATIENT_VIEW, json=["patient-view"])
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["body"]


@pytest.mark.parametrize("field", ["hook", "hookInstance", "context"])
def test_a_missing_required_field_is_a_400_naming_it(client: TestClient, field: str) -> None:
    body = hook_call({})
    del body[field]
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 400
    assert _issue(response) == {
        "severity": "error",
        "code": "required",
        "diagnostics": f"{field}: Field required",
        "expression": [field],
    }


def test_a_wrongly_typed_field_is_a_400_naming_it(client: TestClient) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call({}, hookInstance=42))
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["hookInstance"]


def test_a_hook_instance_that_is_not_a_uuid_is_a_400(client: TestClient) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call({}, hookInstance="call-1"))
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["hookInstance"]


def test_a_missing_context_field_is_a_400_naming_its_path(client: TestClient) -> None:
    body = hook_call({})
    del body["context"]["patientId"]
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["context.patientId"]


def test_encounter_start_requires_an_encounter_id(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    body = hook_call(urgent_prefetch, hook="encounter-start")
    response = client.post("/cds-services/spasm-encounter-start", json=body)
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["context.encounterId"]


def test_an_unknown_service_is_a_404(client: TestClient) -> None:
    response = client.post("/cds-services/no-such-service", json=hook_call({}))
    assert response.status_code == 404
    assert _issue(response)["code"] == "not-found"


def test_a_hook_the_service_does_not_answer_is_a_400(client: TestClient) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call({}, hook="order-sign"))
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["hook"]
    assert "'patient-view'" in _issue(response)["diagnostics"]


def test_fhir_authorization_without_fhir_server_is_a_400(client: TestClient) -> None:
    authorization = {
        "access_token": "t",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "s",
        "subject": "x",
    }
    response = client.post(PATIENT_VIEW, json=hook_call({}, fhirAuthorization=authorization))
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["fhirServer"]


def test_a_body_over_the_limit_is_a_413_before_it_is_read(make_client: MakeClient) -> None:
    client = make_client(max_request_bytes=1000)
    response = client.post(PATIENT_VIEW, content=b" " * 1001, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert _issue(response)["code"] == "too-long"


def test_a_chunked_body_over_the_limit_is_a_413(make_client: MakeClient) -> None:
    client = make_client(max_request_bytes=1000)
    response = client.post(PATIENT_VIEW, content=iter([b" " * 600, b" " * 600]))
    assert response.status_code == 413


def test_deeply_nested_json_is_a_400(client: TestClient) -> None:
    response = client.post(PATIENT_VIEW, content=b"[" * 5000 + b"]" * 5000)
    assert response.status_code == 400
    assert "nested deeper" in _issue(response)["diagnostics"]


def test_non_fhir_data_in_a_prefetch_key_is_a_400_naming_the_key(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    body = hook_call(urgent_prefetch)
    body["prefetch"]["conditions"] = {"not": "a resource"}
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["prefetch.conditions"]


def test_a_prefetch_that_is_not_an_object_is_a_400(client: TestClient) -> None:
    body = hook_call(None)
    body["prefetch"] = ["Patient"]
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["prefetch"]


def test_a_call_without_prefetch_or_fhir_server_is_a_412_listing_the_required_keys(
    client: TestClient,
) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call(None))
    assert response.status_code == 412
    expressions = [issue["expression"][0] for issue in response.json()["issue"]]
    assert expressions == ["prefetch.patient", "prefetch.conditions", "prefetch.observations"]


def test_a_required_key_holding_an_operation_outcome_is_a_412(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    body = hook_call(urgent_prefetch)
    body["prefetch"]["observations"] = {"resourceType": "OperationOutcome", "issue": []}
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 412
    assert _issue(response)["expression"] == ["prefetch.observations"]


def test_a_null_patient_is_a_412(client: TestClient, urgent_prefetch: dict[str, Any]) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call({**urgent_prefetch, "patient": None}))
    assert response.status_code == 412


def test_null_keys_mean_no_data_and_are_not_an_error(client: TestClient) -> None:
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "pat-001"},
        "conditions": None,
        "observations": None,
    }
    response = client.post(PATIENT_VIEW, json=hook_call(prefetch))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_missing_medications_do_not_stop_the_call(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    prefetch = {key: urgent_prefetch[key] for key in ("patient", "conditions", "observations")}
    assert client.post(PATIENT_VIEW, json=hook_call(prefetch)).status_code == 200


def test_resources_about_another_patient_are_not_used(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    body = hook_call(urgent_prefetch)
    body["context"]["patientId"] = "someone-else"
    body["prefetch"]["patient"] = {"resourceType": "Patient", "id": "someone-else"}
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_a_request_id_is_returned_and_a_safe_client_one_is_kept(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"


def test_an_unknown_path_is_a_404_operation_outcome(client: TestClient) -> None:
    response = client.get("/cds-services/spasm-patient-view/nothing-here")
    assert response.status_code == 404
    assert _issue(response)["code"] == "not-found"


def test_a_wrong_method_is_a_405_operation_outcome(client: TestClient) -> None:
    response = client.get(PATIENT_VIEW)
    assert response.status_code == 405
    assert _issue(response)["code"] == "not-supported"


def test_the_response_is_spec_json_with_uuids_on_every_card(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    assert response.headers["content-type"] == "application/json"
    card = orjson.loads(response.content)["cards"][0]
    assert card["uuid"] and card["source"]["topic"]["code"] == "spasm-urgent-red-flag"
    assert HOOK_INSTANCE not in response.text
