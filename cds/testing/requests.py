"""Complete CDS Hooks 2.0 calls made from a patient record, well formed or broken on purpose.

Prefetch comes the way real clients send it: each key a searchset Bundle (possibly empty, possibly only
a first page), the Patient itself, `null` (nothing found), absent (the client's query failed), or an
OperationOutcome; sometimes no prefetch at all. Unknown fields and `extension` appear, as the spec
says a service must ignore them. `fhirAuthorization` is never sent: it would send the service off to
query a FHIR server, which is a different test.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

import orjson
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from cds.testing.fhir_values import FHIR_IDS, JsonObject, chance, integers, pick
from cds.testing.records import BASE_URL, PatientRecord, as_bundle

Shape = Literal["data", "null", "absent", "outcome"]
PREFETCH_KEYS: Mapping[str, str] = {
    "patient": "Patient",
    "conditions": "Condition",
    "observations": "Observation",
    "medicationRequests": "MedicationRequest",
    "medicationStatements": "MedicationStatement",
}
"""Prefetch key -> the resource type its query returns (this service's discovery document)."""
SERVICES: Mapping[str, str] = {
    "spasm-patient-view": "patient-view",
    "spasm-encounter-start": "encounter-start",
}
"""Service id -> its hook."""
SHAPES: tuple[Shape, ...] = ("data", "null", "absent", "outcome")
"""How a key comes when a prefetch is not complete (half of them are: every key holds data)."""
_EXTENSION = {"extension": {"org.example.trace": {"id": "abc"}}}
_OUTCOME: JsonObject = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "search failed on the EHR side"}],
}
_BROKEN = (
    "no hook",
    "no hookInstance",
    "no context",
    "hookInstance not a uuid",
    "patientId not an id",
    "userId not a reference",
    "context not an object",
    "prefetch not an object",
    "prefetch value not a resource",
    "other hook",
    "unknown service",
    "body not an object",
    "body not json",
)
_NOT_OBJECTS: tuple[Any, ...] = ([], "context", 7, True, None)


class HookCall(BaseModel):
    """One call: where it goes, what it carries, and what it was made from."""

    model_config = ConfigDict(frozen=True)

    service: str
    content: bytes
    """The request body exactly as sent."""
    record: PatientRecord
    shapes: dict[str, Shape]
    """How each prefetch key was sent; empty when the call has no prefetch."""
    broken: str | None = None
    """Which rule of the spec the call breaks on purpose; None for a well-formed call."""

    @property
    def body(self) -> Any:
        return orjson.loads(self.content)


def _bundle(record: PatientRecord, resource_type: str, draw: st.DrawFn) -> JsonObject:
    resources = [r for r in record.resources if r["resourceType"] == resource_type]
    bundle = as_bundle(resources, "searchset")
    bundle["id"] = draw(FHIR_IDS)
    links = [{"relation": "self", "url": f"{BASE_URL}/{resource_type}?patient={record.patient_id}"}]
    if resources and chance(draw):
        links.append(
            {"relation": "next", "url": f"{BASE_URL}/{resource_type}?patient={record.patient_id}&page=2"}
        )
    bundle["link"] = links
    return bundle


def _prefetch_value(draw: st.DrawFn, record: PatientRecord, resource_type: str, shape: Shape) -> Any:
    if shape == "null":
        return None
    if shape == "outcome":
        return _OUTCOME
    if resource_type == "Patient" and chance(draw):
        return next(
            r for r in record.resources if r["resourceType"] == "Patient" and r["id"] == record.patient_id
        )
    return _bundle(record, resource_type, draw)


def draw_well_formed(
    draw: st.DrawFn, record: PatientRecord, keys: Mapping[str, str], services: Mapping[str, str]
) -> tuple[str, JsonObject, dict[str, Shape]]:
    service = pick(draw, sorted(services))
    hook = services[service]
    context: JsonObject = {"userId": f"Practitioner/{draw(FHIR_IDS)}", "patientId": record.patient_id}
    if hook != "patient-view" or chance(draw):
        context["encounterId"] = draw(FHIR_IDS)
    body: JsonObject = {
        "hook": hook,
        "hookInstance": str(uuid.UUID(int=draw(integers(0, 2**64)))),
        "context": context,
    }
    shapes: dict[str, Shape] = {}
    if draw(integers(0, 9)) > 0:
        complete = chance(draw)
        shapes = {key: "data" if complete else pick(draw, SHAPES) for key in keys}
        body["prefetch"] = {
            key: _prefetch_value(draw, record, keys[key], shape)
            for key, shape in shapes.items()
            if shape != "absent"
        }
        if chance(draw):
            body["prefetch"]["unaskedKey"] = {"resourceType": "Bundle", "type": "searchset"}
    if chance(draw):
        body.update(_EXTENSION)
        context.update(_EXTENSION)
    if chance(draw):
        body["fhirServer"] = "https://ehr.example.org/fhir"
    if chance(draw):
        body["someFutureField"] = {"anything": [1, "two"]}
    return service, body, shapes


def _break(draw: st.DrawFn, how: str, body: JsonObject) -> tuple[str | None, Any]:
    """The body broken `how`; a new service id when the break is in the path."""
    broken = orjson.loads(orjson.dumps(body))
    if how.startswith("no "):
        del broken[how.removeprefix("no ")]
    elif how == "hookInstance not a uuid":
        broken["hookInstance"] = pick(draw, ["not-a-uuid", "", "12345"])
    elif how == "patientId not an id":
        broken["context"]["patientId"] = pick(draw, ["Patient/123", "", "a b"])
    elif how == "userId not a reference":
        broken["context"]["userId"] = pick(draw, ["prac-1", "", "practitioner/1"])
    elif how == "context not an object":
        broken["context"] = pick(draw, _NOT_OBJECTS)
    elif how == "prefetch not an object":
        broken["prefetch"] = pick(draw, [[], "prefetch", 3])
    elif how == "prefetch value not a resource":
        broken["prefetch"] = {
            **broken.get("prefetch", {}),
            "patient": pick(draw, ["Patient/1", 3, [], {"id": "x"}]),
        }
    elif how == "other hook":
        broken["hook"] = pick(draw, ["order-sign", "", "PATIENT-VIEW"])
    elif how == "unknown service":
        return pick(draw, ["spasm", "no-such-service", "spasm-patient-view-2"]), broken
    elif how == "body not an object":
        return None, pick(draw, _NOT_OBJECTS)
    return None, broken


@st.composite
def hook_calls(
    draw: st.DrawFn,
    records: st.SearchStrategy[PatientRecord],
    *,
    keys: Mapping[str, str] = PREFETCH_KEYS,
    services: Mapping[str, str] = SERVICES,
    broken: Literal["none", "some", "all"] = "some",
) -> HookCall:
    """A call carrying a record drawn from `records`. A broken call breaks the spec in one way (missing
    field, wrong type, unknown service, not JSON...) and must get a 4xx; `broken` says whether none,
    some (one in three) or all calls are."""
    record = draw(records)
    service, body, shapes = draw_well_formed(draw, record, keys, services)
    breaks = broken == "all" or (broken == "some" and draw(integers(0, 2)) == 0)
    how = pick(draw, _BROKEN) if breaks else None
    if how is None:
        return HookCall(service=service, content=orjson.dumps(body), record=record, shapes=shapes)
    if how == "body not json":
        content = pick(draw, [b"{", b"", b'{"hook": "patient-view",}', b"\xff\xfe"])
        return HookCall(service=service, content=content, record=record, shapes=shapes, broken=how)
    other_service, sent = _break(draw, how, body)
    return HookCall(
        service=other_service or service, content=orjson.dumps(sent), record=record, shapes=shapes, broken=how
    )
