"""What every response shares: CORS, structured logs without secrets, and no bare 500s."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import orjson
import pytest
from service_helpers import FEEDBACK, PATIENT_VIEW, MakeClient, hook_call
from starlette.testclient import TestClient

from cds.service import endpoints
from cds.service.logging import JsonFormatter, request_fields

PREFLIGHT = {
    "Origin": "https://sandbox.cds-hooks.org",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, accept",
}


@pytest.mark.parametrize("path", ["/cds-services", PATIENT_VIEW, FEEDBACK, "/healthz", "/anything/else"])
def test_every_path_answers_the_cors_preflight(client: TestClient, path: str) -> None:
    response = client.options(path, headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert {"Authorization", "Content-Type", "Accept"} <= set(
        response.headers["access-control-allow-headers"].split(", ")
    )


def test_a_preflight_from_an_origin_not_configured_is_refused(make_client: MakeClient) -> None:
    client = make_client(cors_origins=["https://ehr.example.org"])
    assert client.options(PATIENT_VIEW, headers=PREFLIGHT).status_code == 400


def test_error_responses_carry_cors_headers_so_browsers_can_read_them(make_client: MakeClient) -> None:
    client = make_client(auth="jwt")
    response = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "*"


def test_an_unexpected_error_is_a_500_operation_outcome_and_logged_without_its_message(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clinical_value = "potassium 2.1 mmol/L"

    def fail(*_: Any) -> NoReturn:
        raise RuntimeError(clinical_value)

    monkeypatch.setattr(endpoints, "parse_hook_request", fail)
    response = client.post(PATIENT_VIEW, json=hook_call({}))
    assert response.status_code == 500
    assert response.json()["issue"][0]["code"] == "exception"
    logged = [JsonFormatter().format(record) for record in caplog.records if record.exc_info]
    assert len(logged) == 1
    assert "RuntimeError" in logged[0] and "potassium" not in logged[0]


def test_each_request_logs_one_json_line_with_service_hook_instance_and_rule_ids(
    client: TestClient, urgent_prefetch: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cds")
    client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    lines = [orjson.loads(JsonFormatter().format(r)) for r in caplog.records if r.getMessage() == "request"]
    assert len(lines) == 1
    assert lines[0]["service"] == "spasm-patient-view"
    assert lines[0]["hook_instance"] == hook_call()["hookInstance"]
    assert lines[0]["rule_ids"] == ["spasm-urgent-red-flag"]
    assert lines[0]["status"] == 200 and lines[0]["duration_ms"] > 0


def test_no_clinical_value_of_the_record_reaches_the_log(
    client: TestClient, urgent_prefetch: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    for value in ("Rivera", "1979-04-12", "Muscle fasciculation", "82470000"):
        assert value not in text


def test_log_lines_carry_the_request_id_of_the_request_being_served() -> None:
    record = logging.LogRecord("cds.test", logging.INFO, __file__, 1, "hello", None, None)
    token = request_fields.set({"request_id": "req-1"})
    try:
        line = orjson.loads(JsonFormatter().format(record))
    finally:
        request_fields.reset(token)
    assert (line["message"], line["request_id"], line["level"]) == ("hello", "req-1", "info")
