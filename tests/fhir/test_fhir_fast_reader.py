"""The fast reader: what it builds, what it leaves as text, and when it hands over to the validating one."""

from __future__ import annotations

import orjson

from cds.fhir import FhirText, parse_hook_call, parse_json_bytes, read_input
from cds.fhir.decode import Head
from cds.fhir.raw import HEAD_ELEMENTS

CLAIM = {"resourceType": "Claim", "id": "c1", "item": [{"sequence": 1, "net": {"value": 12.5}}]}
CRAMP = {
    "resourceType": "Condition",
    "id": "cramp",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55300003"}], "text": "Cramp"},
    "subject": {"reference": "Patient/p"},
    "onsetDateTime": "2026-11-20",
}


def bundle(*resources: dict[str, object]) -> bytes:
    return orjson.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]})


def test_the_decoded_head_is_exactly_the_triage_elements() -> None:
    assert Head.__struct_fields__ == HEAD_ELEMENTS


def test_a_resource_read_fast_has_only_its_head_until_read_whole() -> None:
    claim, cramp = read_input(bundle(CLAIM, CRAMP)).resources
    assert dict(cramp.head) == {k: v for k, v in CRAMP.items() if k in HEAD_ELEMENTS}
    assert cramp.code_key == orjson.dumps(CRAMP["code"])
    assert (claim.resource, cramp.resource) == (CLAIM, CRAMP)


def test_both_readers_give_the_same_resources_and_origins() -> None:
    data = bundle(CLAIM, CRAMP)
    fast, validating = (read_input(data, reader=reader) for reader in ("fast", "validating"))
    assert fast.resources == validating.resources
    assert [r.origin for r in fast.resources] == ["entry[0]", "entry[1]"]


def test_a_hook_call_keeps_its_prefetch_objects_as_text() -> None:
    call = {
        "hook": "patient-view",
        "context": {"patientId": "p"},
        "prefetch": {"c": orjson.loads(bundle(CRAMP)), "n": None},
    }
    document = parse_hook_call(orjson.dumps(call))
    assert isinstance(document["prefetch"]["c"], FhirText)
    assert document["prefetch"]["c"].json() == call["prefetch"]["c"]
    assert {k: v for k, v in document.items() if k != "prefetch"} == {
        "hook": "patient-view",
        "context": {"patientId": "p"},
    }
    assert document["prefetch"]["n"] is None


def test_a_hook_call_of_unusual_shape_is_parsed_the_validating_way() -> None:
    body = b'{"hook": "patient-view", "prefetch": [1, 2]}'
    assert parse_hook_call(body) == parse_json_bytes(body)
