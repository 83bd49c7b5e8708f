"""Complete CDS Hooks 2.0 calls made from a patient record, well formed or broken on purpose.

The calls follow a discovery document (`cds.testing.discovery`): each advertised service gets its
hook's context (`cds.testing.contexts`) and its own prefetch keys, each filled the way the query asks:
a read (`Patient/{{context.patientId}}`) is the resource itself, a search is a searchset Bundle of what
a FHIR server would return (possibly empty, possibly only a first page). A key may also come `null`
(nothing found), absent (the client's query failed) or as an OperationOutcome; sometimes there is no
prefetch at all. Unknown fields and `extension` appear, as the spec says a service must ignore them.

With a `LoopbackFhirServer` (`cds.testing.fhirserver`), calls whose prefetch falls short also carry
`fhirServer` and `fhirAuthorization` pointing at it, holding the record's data, so a service's fallback
queries are exercised too; without one, `fhirServer` is sometimes sent without a token.

    calls = from_discovery("http://127.0.0.1:3000/cds-services")
    @given(calls.any())
    def test_it(call): ...
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from cds.testing.charts import patient_records
from cds.testing.contexts import KNOWN_HOOKS, context_resources, draw_context
from cds.testing.discovery import AdvertisedService, Discovery, PrefetchQuery, read_discovery
from cds.testing.fhir_values import FHIR_IDS, JsonObject, chance, integers, pick
from cds.testing.records import BASE_URL, Entry, PatientRecord, as_bundle
from cds.testing.space import RuleSpace, load_space

if TYPE_CHECKING:
    from cds.testing.fhirserver import LoopbackFhirServer
    from cds.testing.signing import TestSigner

Shape = Literal["data", "null", "absent", "outcome"]
SHAPES: tuple[Shape, ...] = ("data", "null", "absent", "outcome")
"""How a key comes when a prefetch is not complete."""
Prefetch = Literal["any", "complete", "short"]
PREFETCH_MODES: Mapping[Prefetch, tuple[str, ...]] = {
    "any": ("complete",) * 8 + ("partial", "none"),
    "complete": ("complete",),
    "short": ("partial", "none"),
}
"""How much prefetch calls carry. Most calls carry all of it, as a client that can run the queries
does: those reach the service's logic (about 88% of them get a 200 from this service). `short` calls
test what a service does when data falls short: some keys null, absent or an OperationOutcome, or no
prefetch at all."""
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
    hook: str
    content: bytes
    """The request body exactly as sent."""
    record: PatientRecord
    shapes: dict[str, Shape]
    """How each prefetch key was sent; empty when the call has no prefetch."""
    broken: str | None = None
    """Which rule of the spec the call breaks on purpose; None for a well-formed call."""
    fhir_server: str | None = None
    """The loopback FHIR server's base URL when the call gives the service access to it."""
    patient_key: str | None = None
    """The prefetch key that reads the context's Patient, if the service asked for it."""

    @property
    def without_patient(self) -> bool:
        """Whether the client told the service it has no such Patient (the read came back null)."""
        return self.patient_key is not None and self.shapes.get(self.patient_key) == "null"

    @property
    def body(self) -> Any:
        return orjson.loads(self.content)

    def __repr__(self) -> str:
        return f"HookCall({self.service}, {self.hook}, shapes={self.shapes}, broken={self.broken!r})"


@functools.cache
def own_discovery() -> Discovery:
    """This project's discovery document, as the service would serve it."""
    from cds.service.discovery import discovery_json
    from cds.service.templates import TEMPLATES

    return read_discovery(discovery_json(TEMPLATES))


def _prefetch_value(
    draw: st.DrawFn, record: PatientRecord, query: PrefetchQuery, context: JsonObject, paged: bool
) -> Any:
    filled = query.filled(context)
    found = query.answer(filled, record.resources)
    if query.kind == "read" or not isinstance(found, list):
        return found
    bundle = as_bundle(found, "searchset")
    bundle["id"] = draw(FHIR_IDS)
    links = [{"relation": "self", "url": f"{BASE_URL}/{filled}"}]
    if paged and found and chance(draw):
        links.append({"relation": "next", "url": f"{BASE_URL}/{filled}&_page=2"})
    bundle["link"] = links
    return bundle


def _draw_prefetch(
    draw: st.DrawFn,
    record: PatientRecord,
    service: AdvertisedService,
    context: JsonObject,
    paged: bool,
    amount: Prefetch,
) -> tuple[JsonObject | None, dict[str, Shape]]:
    mode = pick(draw, PREFETCH_MODES[amount]) if service.prefetch else "none"
    if mode == "none":
        return None, {}
    shapes: dict[str, Shape] = {
        query.key: "data" if mode == "complete" else pick(draw, SHAPES) for query in service.prefetch
    }
    if mode == "partial" and all(shape == "data" for shape in shapes.values()):
        shapes[pick(draw, list(shapes))] = pick(draw, SHAPES[1:])
    prefetch: JsonObject = {}
    for query in service.prefetch:
        shape = shapes[query.key]
        if shape == "data":
            prefetch[query.key] = _prefetch_value(draw, record, query, context, paged)
        elif shape != "absent":
            prefetch[query.key] = None if shape == "null" else _OUTCOME
    if chance(draw):
        prefetch["unaskedKey"] = {"resourceType": "Bundle", "type": "searchset"}
    return prefetch, shapes


def draw_well_formed(
    draw: st.DrawFn,
    record: PatientRecord,
    service: AdvertisedService,
    space: RuleSpace,
    fhir: LoopbackFhirServer | None = None,
    prefetch: Prefetch = "any",
) -> tuple[JsonObject, dict[str, Shape], PatientRecord]:
    """A body for `service` carrying `record`, how each prefetch key was sent, and the record with the
    resources the context names (encounter, user) that the EHR also holds."""
    context = draw_context(draw, service.hook, record, space)
    named = [Entry(role="context", resource=resource) for resource in context_resources(context)]
    record = record.with_entries([*record.entries, *named])
    body: JsonObject = {
        "hook": service.hook,
        "hookInstance": str(uuid.UUID(int=draw(integers(0, 2**64)))),
        "context": context,
    }
    sent, shapes = _draw_prefetch(draw, record, service, context, fhir is None, prefetch)
    if sent is not None:
        body["prefetch"] = sent
    if fhir is not None and (sent is None or any(shape != "data" for shape in shapes.values())):
        body["fhirServer"] = fhir.base_url
        body["fhirAuthorization"] = fhir.authorization(record.patient_id)
    elif chance(draw):
        body["fhirServer"] = "https://ehr.example.org/fhir"
    if chance(draw):
        body.update(_EXTENSION)
        context.update(_EXTENSION)
    if chance(draw):
        body["someFutureField"] = {"anything": [1, "two"]}
    return body, shapes, record


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
        key = next(iter(broken.get("prefetch") or {}), "patient")
        broken["prefetch"] = {
            **broken.get("prefetch", {}),
            key: pick(draw, ["Patient/1", 3, [], {"id": "x"}]),
        }
    elif how == "other hook":
        hook = body["hook"]
        broken["hook"] = pick(draw, [*(h for h in KNOWN_HOOKS if h != hook), "", hook.upper()])
    elif how == "unknown service":
        return pick(draw, ["no-such-service", "cds-services", "x" * 65]), broken
    elif how == "body not an object":
        return None, pick(draw, _NOT_OBJECTS)
    return None, broken


def draw_call(
    draw: st.DrawFn,
    record: PatientRecord,
    service: AdvertisedService,
    *,
    space: RuleSpace,
    broken: Literal["none", "some", "all"],
    fhir: LoopbackFhirServer | None = None,
    prefetch: Prefetch = "any",
) -> HookCall:
    body, shapes, record = draw_well_formed(draw, record, service, space, fhir, prefetch)
    fields: dict[str, Any] = {
        "service": service.id,
        "hook": service.hook,
        "record": record,
        "shapes": shapes,
        "fhir_server": body.get("fhirServer") if fhir is not None else None,
        "patient_key": next((q.key for q in service.prefetch if q.reads_patient), None),
    }
    breaks = broken == "all" or (broken == "some" and draw(integers(0, 2)) == 0)
    how = pick(draw, _BROKEN) if breaks else None
    if how is None:
        return HookCall(content=orjson.dumps(body), **fields)
    if how == "body not json":
        content = pick(draw, [b"{", b"", b'{"hook": "patient-view",}', b"\xff\xfe"])
        return HookCall(content=content, broken=how, **fields)
    other_service, sent = _break(draw, how, body)
    return HookCall(
        **{**fields, "service": other_service or service.id, "content": orjson.dumps(sent)}, broken=how
    )


@st.composite
def hook_calls(
    draw: st.DrawFn,
    records: st.SearchStrategy[PatientRecord],
    *,
    discovery: Discovery | None = None,
    space: RuleSpace | None = None,
    broken: Literal["none", "some", "all"] = "some",
    fhir: LoopbackFhirServer | None = None,
) -> HookCall:
    """A call to one of the `discovery` document's services (default: this project's own) carrying a
    record drawn from `records`. A broken call breaks the spec in one way (missing field, wrong type,
    unknown service, not JSON...) and must get a 4xx; `broken` says whether none, some (one in three)
    or all calls are."""
    services = (discovery or own_discovery()).services
    service = pick(draw, services)
    record = draw(records)
    return draw_call(draw, record, service, space=space or load_space(), broken=broken, fhir=fhir)


class ServiceCalls(Mapping[str, st.SearchStrategy[HookCall]]):
    """Call strategies for each service a discovery document advertises, by service id."""

    def __init__(
        self,
        discovery: Discovery,
        strategies: dict[str, st.SearchStrategy[HookCall]],
        signer: TestSigner | None,
        fhir: LoopbackFhirServer | None,
    ) -> None:
        self.discovery = discovery
        self._strategies = strategies
        self.signer = signer
        self.fhir = fhir

    def __getitem__(self, service_id: str) -> st.SearchStrategy[HookCall]:
        return self._strategies[service_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._strategies)

    def __len__(self) -> int:
        return len(self._strategies)

    def any(self) -> st.SearchStrategy[HookCall]:
        """A call to any of the services."""
        return st.one_of(*self._strategies.values())


def from_discovery(
    source: str | Path | Mapping[str, Any] | bytes,
    records: st.SearchStrategy[PatientRecord] | None = None,
    *,
    space: RuleSpace | None = None,
    broken: Literal["none", "some", "all"] = "none",
    prefetch: Prefetch = "any",
    signer: TestSigner | None = None,
    fhir: LoopbackFhirServer | None = None,
) -> ServiceCalls:
    """Call strategies for every service of the discovery document at `source` (a URL, a file or the
    parsed JSON). Records default to `patient_records` around the present moment (services evaluate at
    the time of the call); `space` draws codes from other rules or value sets (`cds.testing.valuesets`);
    `broken` and `prefetch` are as for `hook_calls` and `PREFETCH_MODES`.
    `signer` and `fhir` travel with the calls to the harness (`cds.testing.harness`), which signs each
    call and loads each record into the FHIR server."""
    headers = None
    if signer is not None and isinstance(source, str) and source.startswith(("http://", "https://")):
        headers = signer.headers(source)
    discovery = read_discovery(source, headers)
    rules = space or load_space()
    drawn = records if records is not None else patient_records(now=dt.datetime.now(dt.UTC), space=rules)

    def strategy(service: AdvertisedService) -> st.SearchStrategy[HookCall]:
        @st.composite
        def calls(draw: st.DrawFn) -> HookCall:
            record = draw(drawn)
            return draw_call(draw, record, service, space=rules, broken=broken, fhir=fhir, prefetch=prefetch)

        return calls()

    grouped: dict[str, list[st.SearchStrategy[HookCall]]] = {}
    for service in discovery.services:
        grouped.setdefault(service.id, []).append(strategy(service))
    strategies = {service_id: st.one_of(*found) for service_id, found in grouped.items()}
    return ServiceCalls(discovery, strategies, signer, fhir)
