"""Failures a clinician can see: open FHIR servers, a warning card instead of silence, refusals explained."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest
from service_fhir_server import FhirTestServer
from service_helpers import PATIENT_VIEW, MakeClient, hook_call, metric_sample
from starlette.testclient import TestClient

from cds.service.logging import JsonFormatter

PREFLIGHT = {
    "Origin": "https://sandbox.cds-hooks.org",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def _without_observations(urgent_prefetch: dict[str, Any]) -> dict[str, Any]:
    return {key: urgent_prefetch[key] for key in ("patient", "conditions")}


def _logged(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    lines = [orjson.loads(JsonFormatter().format(record)) for record in caplog.records]
    return [line for line in lines if line.get("event") == event]


def test_an_open_fhir_server_is_queried_without_fhir_authorization(
    make_client: MakeClient, fhir_server: FhirTestServer
) -> None:
    client = make_client(fhir_open_servers=[fhir_server.url("open")])
    fhir_server.seen.clear()
    response = client.post(PATIENT_VIEW, json=hook_call(None, fhirServer=fhir_server.url("open")))
    assert response.status_code == 200
    assert response.json()["cards"][0]["indicator"] == "critical"
    assert {seen.authorization for seen in fhir_server.requests_for("open")} == {None}


def test_without_the_open_server_setting_a_call_without_fhir_authorization_is_a_412(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    fhir_server.seen.clear()
    response = client.post(PATIENT_VIEW, json=hook_call(None, fhirServer=fhir_server.url("open")))
    assert response.status_code == 412
    assert fhir_server.requests_for("open") == []


def test_missing_required_data_can_be_one_warning_card_instead_of_a_412(
    make_client: MakeClient, urgent_prefetch: dict[str, Any]
) -> None:
    client = make_client(on_missing_data="warning-card")
    response = client.post(PATIENT_VIEW, json=hook_call(_without_observations(urgent_prefetch)))
    assert response.status_code == 200
    [card] = response.json()["cards"]
    assert card["indicator"] == "warning"
    assert card["summary"] == (
        "Muscle spasm decision support could not check this chart: observations unavailable"
    )
    assert "- observations: not in prefetch" in card["detail"]


def test_the_412_stays_the_default(client: TestClient, urgent_prefetch: dict[str, Any]) -> None:
    response = client.post(PATIENT_VIEW, json=hook_call(_without_observations(urgent_prefetch)))
    assert response.status_code == 412
    assert response.json()["issue"][0]["expression"] == ["prefetch.observations"]


def test_the_412_log_line_names_the_missing_keys_and_why(
    client: TestClient, urgent_prefetch: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cds")
    client.post(PATIENT_VIEW, json=hook_call({"patient": urgent_prefetch["patient"]}))
    [line] = _logged(caplog, "required_data_unavailable")
    assert line["status"] == 412
    assert line["missing"] == {"conditions": "no-server", "observations": "no-server"}
    assert set(line["why"]) == {"conditions", "observations"}


def test_a_cors_preflight_gets_a_log_line_and_a_metric(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    labels = {"endpoint": "cors-preflight", "method": "OPTIONS", "status": "200"}
    before = metric_sample(client, "cds_http_requests_total", **labels)
    caplog.set_level(logging.INFO, logger="cds")
    assert client.options(PATIENT_VIEW, headers=PREFLIGHT).status_code == 200
    requests = [line for line in _logged(caplog, "request") if line["method"] == "OPTIONS"]
    assert [(line["endpoint"], line["status"]) for line in requests] == [("cors-preflight", 200)]
    assert metric_sample(client, "cds_http_requests_total", **labels) == before + 1
