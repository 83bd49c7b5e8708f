"""Calls made from a discovery document: reads are resources, searches Bundles, tokens filled, and each
hook gets the context the CDS Hooks library defines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.testing.discovery import parse_query, read_discovery
from cds.testing.requests import HookCall, from_discovery
from cds.testing.strategies import patient_records

DISCOVERY = Path(__file__).parent / "data" / "discovery.json"
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
FEW = settings(max_examples=25)
HOOKS = ("patient-view", "order-select", "order-sign", "encounter-start", "encounter-discharge")


def _document(*hooks: str) -> dict[str, Any]:
    prefetch = {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}",
        "practitioner": "Practitioner/{{userPractitionerId}}",
        "encounter": "Encounter/{{context.encounterId}}",
    }
    return {
        "services": [
            {"hook": hook, "id": f"svc-{hook}", "description": "d", "prefetch": prefetch} for hook in hooks
        ]
    }


def _calls(*hooks: str, **options: Any) -> st.SearchStrategy[HookCall]:
    return from_discovery(_document(*hooks), patient_records(now=NOW), prefetch="complete", **options).any()


def test_a_read_template_is_told_from_a_search() -> None:
    assert parse_query("patient", "Patient/{{context.patientId}}").kind == "read"
    assert parse_query("conditions", "Condition?patient={{context.patientId}}").kind == "search"
    assert parse_query("all", "Observation").kind == "search"


def test_tokens_are_filled_from_the_context() -> None:
    query = parse_query("p", "Observation?patient={{context.patientId}}&performer={{userPractitionerId}}")
    context = {"patientId": "pat-1", "userId": "Practitioner/doc-7"}
    assert query.filled(context) == "Observation?patient=pat-1&performer=doc-7"


def test_a_user_token_of_another_resource_type_is_left_empty() -> None:
    query = parse_query("p", "Practitioner/{{userPractitionerId}}")
    assert query.filled({"userId": "PractitionerRole/r-1"}) == "Practitioner/"


def test_the_discovery_document_gives_one_strategy_per_service() -> None:
    calls = from_discovery(DISCOVERY)
    assert sorted(calls) == ["order-echo", "static-patient-view"]


@FEW
@given(_calls("patient-view"))
def test_a_patient_read_is_the_patient_itself(call: HookCall) -> None:
    patient = call.body["prefetch"]["patient"]
    assert patient["resourceType"] == "Patient" and patient["id"] == call.body["context"]["patientId"]


@FEW
@given(_calls("patient-view"))
def test_a_search_is_a_searchset_of_the_patients_own_resources(call: HookCall) -> None:
    bundle = call.body["prefetch"]["conditions"]
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    patient = call.body["context"]["patientId"]
    for entry in bundle.get("entry", []):
        assert entry["resource"]["resourceType"] == "Condition"
        assert entry["resource"]["subject"]["reference"].split("/_history")[0].endswith(f"Patient/{patient}")


@FEW
@given(_calls("encounter-start"))
def test_reads_of_what_the_context_names_find_it(call: HookCall) -> None:
    context, prefetch = call.body["context"], call.body["prefetch"]
    assert prefetch["encounter"]["id"] == context["encounterId"]
    get_fhir_model_class("Encounter").model_validate(prefetch["encounter"])
    if context["userId"].startswith("Practitioner/"):
        assert prefetch["practitioner"] == {
            "resourceType": "Practitioner",
            "id": context["userId"].split("/")[1],
        }
    else:
        assert prefetch["practitioner"] is None  # {{userPractitionerId}} is empty for a PractitionerRole


@pytest.mark.parametrize("hook", HOOKS)
def test_each_hook_gets_its_context(hook: str) -> None:
    @FEW
    @given(_calls(hook))
    def check(call: HookCall) -> None:
        context = call.body["context"]
        assert call.body["hook"] == hook
        assert context["userId"].split("/")[0] in ("Practitioner", "PractitionerRole")
        assert context["patientId"] == call.record.patient_id
        if hook.startswith("encounter-"):
            assert "encounterId" in context
        if hook.startswith("order-"):
            drafts = context["draftOrders"]
            assert drafts["resourceType"] == "Bundle"
            for entry in drafts["entry"]:
                get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
                assert entry["resource"]["status"] == "draft"
        else:
            assert "draftOrders" not in context
        if hook == "order-select":
            ids = {
                f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in context["draftOrders"]["entry"]
            }
            assert context["selections"] and set(context["selections"]) <= ids
        else:
            assert "selections" not in context

    check()


@FEW
@given(from_discovery(_document("patient-view"), patient_records(now=NOW), prefetch="short").any())
def test_short_calls_lack_some_prefetch(call: HookCall) -> None:
    prefetch = call.body.get("prefetch")
    assert prefetch is None or any(call.shapes[key] != "data" for key in call.shapes)


def test_a_discovery_document_is_read_from_a_file_or_bytes() -> None:
    assert read_discovery(DISCOVERY) == read_discovery(DISCOVERY.read_bytes())
    assert read_discovery(DISCOVERY).base_url is None
