"""The fast reader: what it builds, what it leaves as text, and when it hands over to the validating one."""

from __future__ import annotations

import orjson
import pytest
import yyjson
from json_takers import orjson_takes

from cds.fhir import FhirText, InputError, parse_hook_call, parse_json_bytes, read_input
from cds.fhir.decode import Head, NotFast, checked_text, hook_call
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


SKIPPED_BY_MSGSPEC = {
    "invalid UTF-8": b'"\xc3\x28"',
    "UTF-8 of a surrogate": b'"\xed\xa0\x80"',
    "a number too large for a double": b"1e400",
    "a number too large, written out": b"9" * 400,
    "nesting deeper than the limit": b"[" * 70 + b"]" * 70,
}
"""What msgspec takes in a value it skips (it checks syntax only) and the validating path refuses."""


def call_with_a_claim_holding(value: bytes) -> bytes:
    claim = b'{"resourceType":"Claim","id":"c","note":%s}' % value
    claims = b'{"resourceType":"Bundle","entry":[{"resource":%s}]}' % claim
    return b'{"hook":"patient-view","prefetch":{"claims":%s}}' % claims


@pytest.mark.parametrize("name", sorted(SKIPPED_BY_MSGSPEC))
def test_msgspec_alone_takes_what_the_validating_path_refuses_in_what_it_skips(name: str) -> None:
    body = call_with_a_claim_holding(SKIPPED_BY_MSGSPEC[name])
    call = hook_call(body)
    assert call.prefetch
    with pytest.raises(NotFast):
        checked_text(body)


@pytest.mark.parametrize("name", sorted(SKIPPED_BY_MSGSPEC))
def test_a_call_broken_where_nothing_reads_gets_the_validating_paths_error(name: str) -> None:
    body = call_with_a_claim_holding(SKIPPED_BY_MSGSPEC[name])
    with pytest.raises(InputError) as validating:
        parse_json_bytes(body)
    with pytest.raises(InputError) as fast:
        parse_hook_call(body)
    assert str(fast.value) == str(validating.value)


def _yyjson_takes(text: bytes) -> bool:
    try:
        yyjson.Document(text)
    except ValueError:
        return False
    return True


_CONTINUATIONS = (0x20, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0)
"""A byte at each edge of the ranges UTF-8 allows after a lead byte."""


def test_the_text_check_takes_exactly_the_utf8orjson_takes() -> None:
    """Every byte from 0x80 up, followed by 0 to 2 bytes (3 after the lead bytes of 4) at the edges of
    what may follow it."""
    edges = _CONTINUATIONS
    tails = [(), *((a,) for a in edges), *((a, b) for a in edges for b in edges)]
    longest = [(a, b, c) for a in edges for b in edges for c in edges]
    sequences = [(lead, *tail) for lead in range(0x80, 0x100) for tail in tails]
    sequences += [(lead, *tail) for lead in range(0xF0, 0x100) for tail in longest]
    texts = [b'["' + bytes(sequence) + b'"]' for sequence in sequences]
    differ = [text for text in texts if _yyjson_takes(text) != orjson_takes(text)]
    assert differ == []


EDGE_NUMBERS = (
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "-1.7976931348623159e308",
    "17976931348623157" + "0" * 292,
    "17976931348623159" + "0" * 292,
    "1" + "0" * 308,
    "1" + "0" * 309,
    "0." + "0" * 400 + "1e400",
    "1" * 400 + "e-100",
    "1e-400",
    "2e308",
    "1E+0309",
    "18446744073709551616",
    "-9223372036854775809",
    "0.0000000000000000000000000000001e-330",
)


@pytest.mark.parametrize("number", EDGE_NUMBERS)
def test_the_text_check_takes_exactly_the_numbersorjson_takes(number: str) -> None:
    text = b'{"value":%s}' % number.encode()
    assert _yyjson_takes(text) == orjson_takes(text)
