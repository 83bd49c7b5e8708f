"""The checker reads discovery documents, feedback bodies and error bodies as CDS Hooks 2.0 defines them."""

from pathlib import Path
from typing import Any

import orjson
import pytest

from cds.rulebook import Rulebook
from cds.service.discovery import discovery_json
from cds.service.templates import TEMPLATES
from cds.testing.checker import check_discovery, check_error_body, check_feedback

DATA = Path(__file__).parent / "data"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((DATA / name).read_bytes())
    return loaded


@pytest.fixture
def discovery() -> dict[str, Any]:
    return _load("discovery.json")


@pytest.fixture
def feedback() -> dict[str, Any]:
    return _load("feedback.json")


def test_the_spec_example_discovery_document_passes(discovery: dict[str, Any]) -> None:
    assert check_discovery(discovery) == []


def test_this_service_discovery_document_passes(rulebook: Rulebook) -> None:
    assert check_discovery(discovery_json(TEMPLATES)) == []


def test_discovery_without_services_is_reported() -> None:
    assert check_discovery(b"{}") == ["$: missing required field 'services' [CDS Hooks 2.0 §Discovery]"]


@pytest.mark.parametrize("field", ["hook", "id", "description"])
def test_service_without_a_required_field_is_reported(discovery: dict[str, Any], field: str) -> None:
    del discovery["services"][1][field]
    assert check_discovery(discovery) == [
        f"services[1]: missing required field '{field}' [CDS Hooks 2.0 §Discovery]"
    ]


def test_service_listed_twice_for_one_hook_is_reported(discovery: dict[str, Any]) -> None:
    discovery["services"].append(dict(discovery["services"][0]))
    assert check_discovery(discovery) == [
        "services[2]: lists 'static-patient-view' for hook 'patient-view' again (first at services[0]) "
        "[CDS Hooks 2.0 §Discovery]"
    ]


def test_service_id_that_is_not_a_path_segment_is_reported(discovery: dict[str, Any]) -> None:
    discovery["services"][0]["id"] = "static/patient view"
    [violation] = check_discovery(discovery)
    assert violation.startswith("services[0].id: must be a URL path segment")


@pytest.mark.parametrize("token", ["{{today()}}", "{{context.draftOrders.entry.id}}", "{{patientId}}"])
def test_prefetch_token_outside_cds_hooks_2_is_reported(discovery: dict[str, Any], token: str) -> None:
    discovery["services"][1]["prefetch"]["medications"] = f"MedicationRequest?authoredon=gt{token}"
    assert check_discovery(discovery) == [
        f"services[1].prefetch.medications: token {token} is not a CDS Hooks 2.0 prefetch token "
        "[CDS Hooks 2.0 §Prefetch Template]"
    ]


def test_spec_example_feedback_passes(feedback: dict[str, Any]) -> None:
    assert check_feedback(feedback) == []


def test_accepted_feedback_without_accepted_suggestions_is_reported(feedback: dict[str, Any]) -> None:
    del feedback["feedback"][0]["acceptedSuggestions"]
    assert check_feedback(feedback) == [
        "feedback[0]: missing required field 'acceptedSuggestions' [CDS Hooks 2.0 §Feedback]"
    ]


def test_feedback_outcome_outside_the_spec_is_reported(feedback: dict[str, Any]) -> None:
    feedback["feedback"][1]["outcome"] = "ignored"
    assert (
        "feedback[1].outcome: must be one of accepted, overridden; got 'ignored' [CDS Hooks 2.0 §Feedback]"
        in (check_feedback(feedback))
    )


def test_feedback_timestamp_not_in_utc_is_reported(feedback: dict[str, Any]) -> None:
    feedback["feedback"][0]["outcomeTimestamp"] = "2026-11-25T13:00:00+01:00"
    assert check_feedback(feedback) == [
        "feedback[0].outcomeTimestamp: must be an ISO 8601 date and time in UTC; "
        "got '2026-11-25T13:00:00+01:00' [CDS Hooks 2.0 §Feedback]"
    ]


def test_feedback_card_that_is_not_a_uuid_is_reported(feedback: dict[str, Any]) -> None:
    feedback["feedback"][0]["card"] = "card-1"
    [violation] = check_feedback(feedback)
    assert violation.startswith("feedback[0].card: must be a UUID")


def test_override_reason_on_an_accepted_card_is_reported(feedback: dict[str, Any]) -> None:
    feedback["feedback"][0]["overrideReason"] = feedback["feedback"][1]["overrideReason"]
    assert check_feedback(feedback) == [
        "feedback[0]: overrideReason belongs to an overridden outcome, not an accepted one "
        "[CDS Hooks 2.0 §Feedback]"
    ]


def test_override_reason_coding_without_code_is_reported(feedback: dict[str, Any]) -> None:
    del feedback["feedback"][1]["overrideReason"]["reason"]["code"]
    assert check_feedback(feedback) == [
        "feedback[1].overrideReason.reason: missing required field 'code' [CDS Hooks 2.0 §Override Reason]"
    ]


def test_operation_outcome_error_body_passes() -> None:
    assert check_error_body((DATA / "operation-outcome.json").read_bytes()) == []


def test_error_body_that_is_not_an_operation_outcome_is_reported() -> None:
    [violation] = check_error_body(b'{"error": "patientId missing"}')
    assert violation.startswith("resourceType: expected 'OperationOutcome', got None [CDS Hooks 2.0 §")


def test_operation_outcome_without_issues_is_reported() -> None:
    assert check_error_body({"resourceType": "OperationOutcome"}) == [
        "issue: Field required [FHIR R4 OperationOutcome.issue]"
    ]


def test_error_body_that_is_not_json_is_reported() -> None:
    [violation] = check_error_body(b"Internal Server Error")
    assert violation.startswith("$: not valid JSON")
