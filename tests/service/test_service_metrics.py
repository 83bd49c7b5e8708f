"""GET /metrics: what operators count, read from the Prometheus text the service exposes."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from service_fhir_server import TOKEN, FhirTestServer
from service_helpers import PATIENT_VIEW, hook_call, metric_sample
from starlette.testclient import TestClient

import cds
from cds.rulebook import Rulebook


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


def _series(client: TestClient, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): float(sample.value)
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name == name
    }


def test_counters_are_present_at_zero_before_anything_happened(
    client: TestClient, rulebook: Rulebook
) -> None:
    cards = _series(client, "cds_cards_total")
    assert {(("indicator", "info"), ("rule", rule.id)) for rule in rulebook.rules} <= set(cards)
    assert cards[(("indicator", "info"), ("rule", "spasm-urgent-red-flag"))] == 0
    assert {(("outcome", "accepted"),), (("outcome", "overridden"),)} <= set(
        _series(client, "cds_feedback_entries_total")
    )
    assert (("result", "rejected"),) in _series(client, "cds_rules_reloads_total")
    assert (("kind", "paging"),) in _series(client, "cds_fhir_server_errors_total")


def test_build_info_names_the_package_and_rules_versions(client: TestClient) -> None:
    rules_version = client.get("/healthz").json()["rulesVersion"]
    info = _series(client, "cds_build_info")
    assert info[(("rules_version", rules_version), ("version", cds.__version__))] == 1
