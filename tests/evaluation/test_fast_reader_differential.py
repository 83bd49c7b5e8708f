"""The fast reader gives the validating reader's answer on every input: real, generated and broken.

Each test reads the same bytes both ways (`cds.fhir.Reader`) and requires the same evaluation (cards,
facts, what was set aside, notes) or the same error; the service is called with each reader too.
The generated parts run a few examples each by default (the real data above them is the bulk);
HYPOTHESIS_PROFILE=thorough runs twenty times as many.
"""

from __future__ import annotations

import datetime as dt
import gzip
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.bench.workload import ChartLibrary, build_workload
from cds.evaluation import Evaluator
from cds.rulebook import Rulebook
from cds.service.app import create_app
from cds.service.reload import ActiveRules, RulesHolder
from cds.service.settings import Settings
from cds.testing.compare import comparable_cards
from cds.testing.differential import reader_difference
from cds.testing.records import PatientRecord, encode
from cds.testing.requests import hook_calls
from cds.testing.strategies import patient_records, records_at_any_time

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EXPECTED: dict[str, Any] = yaml.safe_load((FIXTURES / "expected.yaml").read_text())
FIXTURE_NOW = dt.datetime.fromisoformat(EXPECTED["now"])
NOW = dt.datetime.now(dt.UTC)
"""The service evaluates at the time of the call, so generated calls are drawn around the present."""
FEW = settings(max_examples=max(10, settings.default.max_examples // 8))
"""Each example is read twice (a call is answered twice): an eighth of the profile's examples keeps this
file within seconds in the default run."""
GARBAGE = b'{}[]",:0e-+.\\ \n\x00\xff\xc3tnu9'
"""Bytes a mutation inserts: JSON's own structure, number parts, escapes, invalid UTF-8."""


@pytest.mark.parametrize("name", sorted(EXPECTED["fixtures"]))
def test_every_fixture_reads_alike(evaluator: Evaluator, name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    patient = EXPECTED["fixtures"][name].get("patient")
    assert reader_difference(evaluator, data, patient_id=patient, now=FIXTURE_NOW) is None


def test_every_synthea_patient_reads_alike(evaluator: Evaluator, shared_data: Path) -> None:
    files = sorted((shared_data / "synthea-r4").glob("*.json.gz"))
    assert len(files) >= 98
    for path in files:
        data = gzip.decompress(path.read_bytes())
        difference = reader_difference(evaluator, data, now=FIXTURE_NOW)
        assert difference is None, f"{path.name}: {difference}"


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory, rulebook: Rulebook) -> Iterator[tuple[TestClient, ...]]:
    """The service twice, reading call bodies the fast way and the validating way."""
    holder = RulesHolder(rulebook.directory, ActiveRules.build(rulebook))
    settings_of = (
        Settings(auth="off", data_dir=tmp_path_factory.mktemp(reader), reader=reader)
        for reader in ("fast", "validating")
    )
    apps = [create_app(s, holder=holder) for s in settings_of]
    with (
        TestClient(apps[0], raise_server_exceptions=False) as fast,
        TestClient(apps[1], raise_server_exceptions=False) as validating,
    ):
        yield fast, validating


def _answer(client: TestClient, service: str, content: bytes) -> tuple[int, Any]:
    response = client.post(
        f"/cds-services/{service}", content=content, headers={"Content-Type": "application/json"}
    )
    body = orjson.loads(response.content) if response.content else None
    return response.status_code, comparable_cards(body) if response.status_code == 200 else body


def _answers_alike(clients: tuple[TestClient, ...], service: str, content: bytes) -> None:
    fast, validating = (_answer(client, service, content) for client in clients)
    assert fast == validating


def test_benchmark_calls_are_answered_alike(clients: tuple[TestClient, ...], shared_data: Path) -> None:
    """Synthea charts of 10 to 1000 resources with spasm findings on top, as `cds bench` sends them."""
    library = ChartLibrary(shared_data / "synthea-r4")
    workload = build_workload(library, (10, 100, 1000), 2, NOW.date())
    for requests in workload.values():
        for request in requests:
            _answers_alike(clients, "spasm-patient-view", request.body)


@FEW
@given(records_at_any_time(), st.sampled_from(("collection", "searchset", "list", "ndjson")))
def test_generated_records_read_alike(evaluator: Evaluator, record: PatientRecord, form: Any) -> None:
    data = encode(record, form)
    assert reader_difference(evaluator, data, patient_id=record.patient_id, now=record.now) is None


@FEW
@given(records_at_any_time(), st.data())
def test_broken_bytes_read_alike(evaluator: Evaluator, record: PatientRecord, data: st.DataObject) -> None:
    """A record's Bundle with a few bytes inserted, deleted or replaced: an error on both sides (the
    same one), or the same evaluation."""
    text = bytearray(encode(record, "collection"))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text) - 1))
        byte = data.draw(st.sampled_from(GARBAGE))
        operation = data.draw(st.sampled_from(("insert", "delete", "replace")))
        if operation == "insert":
            text.insert(at, byte)
        elif operation == "delete":
            del text[at]
        else:
            text[at] = byte
    difference = reader_difference(evaluator, bytes(text), patient_id=record.patient_id, now=record.now)
    assert difference is None


def _bundle(*resources: bytes) -> bytes:
    return (
        b'{"resourceType":"Bundle","entry":[' + b",".join(b'{"resource":%s}' % r for r in resources) + b"]}"
    )


_SUBJECT = b'"subject":{"reference":"Patient/p"}'
_POTASSIUM = (
    b'{"resourceType":"Observation","id":"k","status":"final",%s,'
    b'"code":{"coding":[{"system":"http://loinc.org","code":"2823-3"}]},'
    b'"valueQuantity":{"value":3.1,"unit":"mmol/L"},' % _SUBJECT
)
_CRAMP = b'"code":{"coding":[{"system":"http://snomed.info/sct","code":"55300003"}]}'
_CLAIM = b'{"resourceType":"Claim","id":"c",'
_FUROSEMIDE = b'{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"313988"}]}'
_REQUEST = b'{"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order",%s,' % _SUBJECT
BY_HAND = {
    "nested too deep in a resource nothing reads": _CLAIM + b'"x":' + b"[" * 70 + b"]" * 70 + b"}",
    "a number too large for a double in a resource nothing reads": _CLAIM + b'"total":1e400}',
    "a huge number written out": _CLAIM + b'"total":' + b"9" * 320 + b".5}",
    "invalid UTF-8 in text nothing reads": _CLAIM + b'"note":"\xc3\x28"}',
    "a lone surrogate escape": _CLAIM + b'"note":"\\ud800"}',
    "entry that is not a list": b'{"resourceType":"Bundle","entry":{"resource":{"resourceType":"Claim"}}}',
    "entry that is not an object": b'{"resourceType":"Bundle","entry":[7]}',
    "resource that is a number": _bundle(b"7"),
    "code that is a number": _bundle(b'{"resourceType":"Condition","code":5,%s}' % _SUBJECT),
    "resourceType that is not text": _bundle(b'{"resourceType":3}'),
    "a nested Bundle and an OperationOutcome": _bundle(
        b'{"resourceType":"Bundle","entry":[]}', b'{"resourceType":"OperationOutcome","issue":[]}'
    ),
    "duplicate keys": _bundle(
        b'{"resourceType":"Condition",%s,"code":{"text":"cramp"},"code":{"text":"no cramp"}}' % _SUBJECT
    ),
    "trailing garbage": _CLAIM + b"} x",
    "a byte-order mark": b'\xef\xbb\xbf{"resourceType":"Patient","id":"p"}',
    "a prefetch object with text in it": b'{"patient":{"resourceType":"Patient","id":"p"},"conditions":"no"}',
    "a lab dated only by when it was issued": _bundle(_POTASSIUM + b'"issued":"2019-01-02T10:00:00Z"}'),
    "a lab done years before it was issued": _bundle(
        _POTASSIUM + b'"effectiveDateTime":"2019-01-02","issued":"2026-11-20T10:00:00Z"}'
    ),
    "a lab dated only by a period": _bundle(_POTASSIUM + b'"effectivePeriod":{"start":"2019-01-02"}}'),
    "the patient named only by a patient reference": _bundle(
        b'{"resourceType":"Immunization","patient":{"reference":"Patient/p"}}',
        b'{"resourceType":"Condition","id":"c",%s,"subject":{"reference":"urn:uuid:1"}}' % _CRAMP,
    ),
    "a medication named by its concept": _bundle(_REQUEST + b'"medicationCodeableConcept":%s}' % _FUROSEMIDE),
    "a medication concept that is null beside a contained Medication": _bundle(
        _REQUEST + b'"medicationCodeableConcept":null,"medicationReference":{"reference":"#f"},'
        b'"contained":[{"resourceType":"Medication","id":"f","code":%s}]}' % _FUROSEMIDE
    ),
    "a subject written with spaces and an escaped slash beside a compact one": _bundle(
        b'{"resourceType":"Condition","id":"c",%s,"subject": { "reference" : "Patient\\/p" }}' % _CRAMP,
        _POTASSIUM + b'"effectiveDateTime":"2026-11-20"}',
    ),
    "a subject with a display beside its reference": _bundle(
        b'{"resourceType":"Condition","id":"c",%s,"subject":{"reference":"Patient/p","display":"P"}}' % _CRAMP
    ),
    "a compact subject naming another patient": _bundle(
        b'{"resourceType":"Patient","id":"p"}',
        b'{"resourceType":"Condition","id":"c",%s,"subject":{"reference":"Patient/q"}}' % _CRAMP,
    ),
    "a later version recoded away": _bundle(
        b'{"resourceType":"Condition","id":"c","meta":{"versionId":"1"},%s,%s}' % (_CRAMP, _SUBJECT),
        b'{"resourceType":"Condition","id":"c","meta":{"versionId":"2"},"code":{"text":"fine"},%s}'
        % _SUBJECT,
    ),
}


def _many_entries(*odd: bytes) -> bytes:
    """A Bundle of enough entries to be built all at once (`cds.fhir.unpack`), with `odd` entries
    (whole entry objects) among them: a Patient known by its fullUrl, a cramp and labs."""
    plain = [
        b'{"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","id":"p"}}',
        b'{"resource":{"resourceType":"Condition","id":"c",%s,"subject":{"reference":"urn:uuid:p"}}}'
        % _CRAMP,
    ]
    plain += [
        b'{"fullUrl":"urn:uuid:k%d","resource":%s"id":"k%d","effectiveDateTime":"2026-11-%02d"}}'
        % (n, _POTASSIUM.replace(b'"id":"k",', b""), n, n + 1)
        for n in range(20)
    ]
    entries = plain[:10] + list(odd) + plain[10:]
    return b'{"resourceType":"Bundle","type":"collection","entry":[' + b",".join(entries) + b"]}"


BY_HAND |= {
    "many entries": _many_entries(),
    "many entries, one with an id that is a number": _many_entries(
        b'{"resource":{"resourceType":"Condition","id":7,%s,"subject":{"reference":"Patient/p"}}}' % _CRAMP
    ),
    "many entries, one with a fullUrl that is a number": _many_entries(
        b'{"fullUrl":7,"resource":{"resourceType":"Condition","id":"c7",%s,%s}}' % (_CRAMP, _SUBJECT)
    ),
    "many entries, one without an id": _many_entries(
        b'{"resource":{"resourceType":"Condition",%s,%s}}' % (_CRAMP, _SUBJECT)
    ),
    "many entries, one a nested Bundle": _many_entries(
        b'{"resource":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition",'
        b'"id":"n",%s,%s}}]}}' % (_CRAMP, _SUBJECT)
    ),
    "many entries, one an OperationOutcome": _many_entries(
        b'{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"x"}]}}'
    ),
    "many entries, one whose resourceType is empty": _many_entries(b'{"resource":{"resourceType":""}}'),
    "many entries, one whose resourceType is an object": _many_entries(
        b'{"resource":{"resourceType":{"a":1}}}'
    ),
    "many entries, one without a resource": _many_entries(b'{"request":{"method":"DELETE"}}'),
    "many entries, one that is not an object": _many_entries(b"7"),
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_input_written_by_hand_reads_alike(evaluator: Evaluator, name: str) -> None:
    """Broken input, and valid input of the shapes generated records lack."""
    assert reader_difference(evaluator, BY_HAND[name], now=FIXTURE_NOW) is None


@FEW
@given(st.data())
def test_generated_calls_are_answered_alike(clients: tuple[TestClient, ...], data: st.DataObject) -> None:
    call = data.draw(hook_calls(patient_records(now=NOW)))
    _answers_alike(clients, call.service, call.content)
