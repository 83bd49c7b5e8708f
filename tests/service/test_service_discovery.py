"""GET /cds-services: what an EHR reads before it calls."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from cds.rulebook import Rulebook
from cds.rulebook.requirements import prefetch_templates


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


def test_prefetch_templates_are_the_rulebooks_own_data_requirements(
    client: TestClient, rulebook: Rulebook
) -> None:
    for service in _services(client):
        assert service["prefetch"] == prefetch_templates(rulebook)


def test_every_service_carries_the_required_and_recommended_fields(client: TestClient) -> None:
    for service in _services(client):
        assert service.keys() >= {"hook", "id", "description", "title", "prefetch", "usageRequirements"}


def test_discovery_sends_no_null_or_empty_values(client: TestClient) -> None:
    for service in _services(client):
        assert all(value not in (None, "", [], {}) for value in service.values())


def test_usage_requirements_say_which_prefetch_keys_are_required(client: TestClient) -> None:
    usage = _services(client)[0]["usageRequirements"]
    assert "Required: patient, conditions, observations" in usage
