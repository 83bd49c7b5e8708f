"""Prefetch fallback against a real FHIR server on loopback: what is queried, and every way it can fail."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from service_fhir_server import TOKEN, FhirTestServer
from service_helpers import PATIENT_VIEW, MakeClient, fallback_call, hook_call
from starlette.testclient import TestClient

pytestmark = pytest.mark.slow


def _status_and_codes(response: Any) -> tuple[int, list[str]]:
    return response.status_code, [issue["expression"][0] for issue in response.json().get("issue", [])]


def test_missing_prefetch_is_fetched_and_gives_the_same_cards(
    client: TestClient, fhir_server: FhirTestServer, urgent_prefetch: dict[str, Any]
) -> None:
    fetched = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("ok")))
    sent = client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    assert fetched.status_code == 200
    assert [c["summary"] for c in fetched.json()["cards"]] == [c["summary"] for c in sent.json()["cards"]]


def test_fallback_queries_carry_the_access_token(client: TestClient, fhir_server: FhirTestServer) -> None:
    client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("ok")))
    assert {seen.authorization for seen in fhir_server.requests_for("ok")} == {f"Bearer {TOKEN}"}


def test_fallback_runs_the_discovery_queries_for_the_context_patient(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    fhir_server.seen.clear()
    client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("ok")))
    first_pages = {seen.path for seen in fhir_server.requests_for("ok") if "_page" not in seen.query}
    assert first_pages == {
        "Patient/pat-001",
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationStatement",
    }


def test_only_missing_keys_are_fetched(
    client: TestClient, fhir_server: FhirTestServer, urgent_prefetch: dict[str, Any]
) -> None:
    fhir_server.seen.clear()
    prefetch = {key: urgent_prefetch[key] for key in ("patient", "conditions", "medicationRequests")}
    client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("ok"), prefetch))
    assert {seen.path for seen in fhir_server.requests_for("ok")} == {"Observation", "MedicationStatement"}


def test_every_next_page_is_followed(client: TestClient, fhir_server: FhirTestServer) -> None:
    fhir_server.seen.clear()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("ok")))
    condition_pages = [seen for seen in fhir_server.requests_for("ok") if seen.path == "Condition"]
    assert len(condition_pages) == len(fhir_server.entries["Condition"])
    assert response.json()["cards"]


def test_a_prefetched_bundle_with_a_next_link_is_completed_from_the_server(
    client: TestClient, fhir_server: FhirTestServer, urgent_prefetch: dict[str, Any]
) -> None:
    conditions = fhir_server.entries["Condition"]
    first_page = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": conditions[:1],
        "link": [{"relation": "next", "url": f"{fhir_server.url('ok')}/Condition?patient=pat-001&_page=2"}],
    }
    complete = client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    paged = client.post(
        PATIENT_VIEW,
        json=fallback_call(fhir_server.url("ok"), {**urgent_prefetch, "conditions": first_page}),
    )
    assert [c["summary"] for c in paged.json()["cards"]] == [c["summary"] for c in complete.json()["cards"]]


def test_queries_run_in_parallel(client: TestClient, fhir_server: FhirTestServer) -> None:
    started = time.monotonic()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("slow")))
    assert response.status_code == 200
    assert time.monotonic() - started < 5 * 0.3


def test_a_refused_token_is_a_412(client: TestClient, fhir_server: FhirTestServer) -> None:
    status, keys = _status_and_codes(
        client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("unauthorized")))
    )
    assert (status, keys) == (412, ["prefetch.patient", "prefetch.conditions", "prefetch.observations"])


def test_a_server_error_is_a_502(client: TestClient, fhir_server: FhirTestServer) -> None:
    assert client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("error"))).status_code == 502


def test_garbage_from_the_server_is_a_502(client: TestClient, fhir_server: FhirTestServer) -> None:
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("garbage")))
    assert response.status_code == 502
    assert "not JSON" in response.json()["issue"][0]["diagnostics"]


def test_json_that_is_not_fhir_is_a_502(client: TestClient, fhir_server: FhirTestServer) -> None:
    assert client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("notfhir"))).status_code == 502


def test_an_oversized_answer_is_a_502(client: TestClient, fhir_server: FhirTestServer) -> None:
    assert client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("huge"))).status_code == 502


def test_a_stalled_server_is_a_504_within_the_timeouts(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    started = time.monotonic()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("stall")))
    assert response.status_code == 504
    assert time.monotonic() - started < 2.5


def test_the_total_deadline_bounds_a_slow_server(
    make_client: MakeClient, fhir_server: FhirTestServer
) -> None:
    client = make_client(fhir_total_timeout=0.2)
    started = time.monotonic()
    assert client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("slow"))).status_code == 504
    assert time.monotonic() - started < 1.0


def test_endless_paging_stops_at_the_page_limit_with_a_502(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    fhir_server.seen.clear()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("endless")))
    assert response.status_code == 502
    assert "more pages after 5" in response.json()["issue"][0]["diagnostics"]
    assert len([seen for seen in fhir_server.requests_for("endless") if seen.path == "Condition"]) == 5


def test_a_next_link_to_the_same_page_is_a_502(client: TestClient, fhir_server: FhirTestServer) -> None:
    assert client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("loop"))).status_code == 502


def test_a_next_link_outside_fhir_server_is_not_followed(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("elsewhere")))
    assert response.status_code == 502
    assert "outside fhirServer" in response.json()["issue"][0]["diagnostics"]


def test_failing_optional_medication_queries_still_give_cards(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("medsfail")))
    assert response.status_code == 200
    assert response.json()["cards"]


def test_an_unreachable_server_is_a_502(make_client: MakeClient) -> None:
    client = make_client(fhir_servers=["http://127.0.0.1:9"])
    body = fallback_call("http://127.0.0.1:9/fhir")
    assert client.post(PATIENT_VIEW, json=body).status_code == 502


def test_plain_http_to_a_remote_server_is_refused_with_a_412(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    body = fallback_call("http://fhir.example.org/r4")
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 412
    assert "not https" in response.json()["issue"][0]["diagnostics"]


def test_the_access_token_is_never_logged(
    client: TestClient, fhir_server: FhirTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for mode in ("ok", "error", "unauthorized"):
        client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url(mode)))
    assert caplog.records
    assert all(
        TOKEN not in record.getMessage() and TOKEN not in str(record.__dict__) for record in caplog.records
    )
