"""GET /metrics: what operators count, read from the Prometheus text the service exposes."""

from __future__ import annotations

from typing import Any

from service_fhir_server import TOKEN, FhirTestServer
from service_helpers import PATIENT_VIEW, hook_call, metric_sample
from starlette.testclient import TestClient


def test_requests_are_counted_by_endpoint_and_status(client: TestClient) -> None:
    labels = {"endpoint": "/cds-services/{service_id}", "method": "POST", "status": "412"}
    before = metric_sample(client, "cds_http_requests_total", **labels)
    client.post(PATIENT_VIEW, json=hook_call(None))
    assert metric_sample(client, "cds_http_requests_total", **labels) == before + 1


def test_latency_is_observed_by_endpoint_and_status(client: TestClient) -> None:
    labels = {"endpoint": "/healthz", "status": "200"}
    before = metric_sample(client, "cds_http_request_duration_seconds_count", **labels)
    client.get("/healthz")
    assert metric_sample(client, "cds_http_request_duration_seconds_count", **labels) == before + 1


def test_cards_are_counted_by_rule_and_indicator(client: TestClient, urgent_prefetch: dict[str, Any]) -> None:
    labels = {"rule": "spasm-urgent-red-flag", "indicator": "critical"}
    before = metric_sample(client, "cds_cards_total", **labels)
    client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    assert metric_sample(client, "cds_cards_total", **labels) == before + 1


def test_prefetch_fallbacks_and_fhir_server_errors_are_counted(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    before = (
        metric_sample(client, "cds_prefetch_fallbacks_total", key="observations"),
        metric_sample(client, "cds_fhir_server_errors_total", kind="server-error"),
    )
    authorization = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 60,
        "scope": "s",
        "subject": "x",
    }
    client.post(
        PATIENT_VIEW,
        json=hook_call(None, fhirServer=fhir_server.url("error"), fhirAuthorization=authorization),
    )
    after = (
        metric_sample(client, "cds_prefetch_fallbacks_total", key="observations"),
        metric_sample(client, "cds_fhir_server_errors_total", kind="server-error"),
    )
    assert after == (before[0] + 1, before[1] + 5)


def test_the_rules_version_in_use_is_exposed(client: TestClient) -> None:
    version = client.get("/healthz").json()["rulesVersion"]
    assert metric_sample(client, "cds_rules_loaded", rules_version=version) == 1
