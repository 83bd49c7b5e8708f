"""GET /cds-services: what an EHR reads before it calls."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from cds.service.templates import TEMPLATES


def _services(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/cds-services")
    assert response.status_code == 200
    services: list[dict[str, Any]] = response.json()["services"]
    return services


def test_discovery_lists_a_service_for_patient_view_and_one_for_encounter_start(client: TestClient) -> None:
    assert {(s["id"], s["hook"]) for s in _services(client)} == {
        ("spasm-patient-view", "patient-view"),
        ("spasm-encounter-start", "encounter-start"),
    }


def test_prefetch_templates_are_the_services_own(client: TestClient) -> None:
    for service in _services(client):
        assert service["prefetch"] == TEMPLATES


def test_observations_and_conditions_are_asked_for_whole(client: TestClient) -> None:
    """The rules read Observations by any spelling of any code system and by their words."""
    prefetch = _services(client)[0]["prefetch"]
    assert prefetch["observations"] == "Observation?patient={{context.patientId}}"
    assert prefetch["conditions"] == "Condition?patient={{context.patientId}}"


def test_every_service_carries_the_required_and_recommended_fields(client: TestClient) -> None:
    for service in _services(client):
        assert service.keys() >= {"hook", "id", "description", "title", "prefetch", "usageRequirements"}


def test_discovery_sends_no_null_or_empty_values(client: TestClient) -> None:
    for service in _services(client):
        assert all(value not in (None, "", [], {}) for value in service.values())


def test_usage_requirements_say_which_prefetch_keys_are_required(client: TestClient) -> None:
    usage = _services(client)[0]["usageRequirements"]
    assert "Required: patient, conditions, observations" in usage
