"""Requests the service bounds and refuses without echoing them, as its OpenAPI document says (issue 10)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from service_helpers import FEEDBACK, PATIENT_VIEW, hook_call
from starlette.testclient import TestClient

from cds.cli.main import cli
from cds.fhir import parse_json_bytes

MARKER = "Zq9echo"
ENTRY = {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z"}


def _schemas(client: TestClient) -> dict[str, Any]:
    schemas: dict[str, Any] = client.get("/openapi.json").json()["components"]["schemas"]
    return schemas


def test_the_nesting_check_reads_a_deep_5_mb_body_a_few_times_not_once_per_level() -> None:
    body = b"[" + b",".join([b"[" * 60 + b"]" * 60] * 41_000) + b"]"
    passes = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal passes
        if event == "c_call" and getattr(arg, "__name__", "") == "replace":
            passes += 1

    sys.setprofile(count)
    try:
        parse_json_bytes(body)
    finally:
        sys.setprofile(None)
    assert len(body) > 4_900_000
    assert passes <= 4


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (PATIENT_VIEW, hook_call({}, hook=MARKER)),
        (
            PATIENT_VIEW,
            hook_call(
                {},
                fhirServer="https://fhir.example.org",
                fhirAuthorization={
                    "access_token": "t",
                    "token_type": MARKER,
                    "expires_in": 1,
                    "scope": "s",
                    "subject": "s",
                },
            ),
        ),
        (f"/cds-services/{MARKER}", hook_call({})),
        (f"/cds-services/{MARKER}/feedback", {"feedback": [ENTRY]}),
        (PATIENT_VIEW, hook_call({}, fhirServer=f"https://{MARKER}:99999/r4")),
        (FEEDBACK, {"feedback": [{**ENTRY, "outcome": MARKER}]}),
    ],
)
def test_error_bodies_name_the_field_without_echoing_the_input(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    response = client.post(path, json=body)
    assert 400 <= response.status_code < 500
    assert response.json()["issue"][0]["diagnostics"]
    assert MARKER not in response.text


def test_a_feedback_post_with_too_many_entries_is_a_400(client: TestClient) -> None:
    response = client.post(FEEDBACK, json={"feedback": [ENTRY] * 101})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["feedback"]


def test_a_user_comment_over_2000_characters_is_a_400(client: TestClient) -> None:
    entry = {**ENTRY, "overrideReason": {"userComment": "x" * 2_001}}
    response = client.post(FEEDBACK, json={"feedback": [entry]})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["feedback[0].overrideReason.userComment"]


def test_a_timestamp_with_no_time_in_utc_is_a_400_not_a_500(client: TestClient) -> None:
    response = client.post(
        FEEDBACK, json={"feedback": [{**ENTRY, "outcomeTimestamp": "0001-01-01T00:00:00+01:00"}]}
    )
    assert response.status_code == 400


def test_a_number_as_timestamp_is_a_400_as_the_schema_says(client: TestClient) -> None:
    response = client.post(FEEDBACK, json={"feedback": [{**ENTRY, "outcomeTimestamp": 0}]})
    assert response.status_code == 400


def test_the_documented_call_body_requires_the_context_the_service_requires(client: TestClient) -> None:
    schemas = _schemas(client)
    call = schemas["PatientViewRequest"]
    assert call["properties"]["context"] == {"$ref": "#/components/schemas/PatientViewContext"}
    assert {"userId", "patientId"} <= set(schemas["PatientViewContext"]["required"])
    assert client.post(PATIENT_VIEW, json=hook_call({}, context={})).status_code == 400


def test_the_documented_feedback_entry_requires_suggestions_when_accepted(client: TestClient) -> None:
    entry = _schemas(client)["FeedbackEntry"]
    assert entry["if"]["properties"]["outcome"] == {"const": "accepted"}
    assert entry["then"]["required"] == ["acceptedSuggestions"]
    accepted = client.post(FEEDBACK, json={"feedback": [{**ENTRY, "outcome": "accepted"}]})
    assert accepted.status_code == 400


def test_a_data_dir_that_cannot_be_written_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--no-auth", "--data-dir", str(blocker / "var")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: data_dir {blocker / 'var'}: cannot create or write there (Not a directory); "
        "give a writable directory with --data-dir or CDS_DATA_DIR"
    ]
