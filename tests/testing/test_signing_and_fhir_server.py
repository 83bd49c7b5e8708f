"""The kit's test signer is trusted by a service configured with its key set, and its loopback FHIR server
answers a service's fallback queries from the record, only with the token it handed out."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import find

from cds.rulebook import Rulebook
from cds.service import Settings, create_app
from cds.service.reload import ActiveRules, RulesHolder
from cds.testing.fhirserver import LoopbackFhirServer
from cds.testing.records import PatientRecord
from cds.testing.requests import HookCall, from_discovery
from cds.testing.signing import TestSigner
from cds.testing.strategies import patient_records

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

BASE = "http://testserver"


@pytest.fixture(scope="module")
def signer() -> TestSigner:
    return TestSigner()


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, rulebook: Rulebook, signer: TestSigner, fhir: LoopbackFhirServer
) -> Iterator[TestClient]:
    settings = Settings(
        auth="jwt",
        trusted_issuers=[{"iss": signer.issuer, "jwks": signer.jwks(), "fhir_servers": [fhir.base_url]}],
        outbound_private_networks=["127.0.0.1/32"],
        data_dir=tmp_path_factory.mktemp("var"),
        public_base_url=BASE,
    )
    holder = RulesHolder(rulebook.directory, ActiveRules.build(rulebook))
    with TestClient(create_app(settings, holder=holder)) as started:
        yield started


@pytest.fixture(scope="module")
def fhir() -> Iterator[LoopbackFhirServer]:
    with LoopbackFhirServer() as server:
        yield server


def _discovery(client: TestClient, signer: TestSigner) -> bytes:
    return client.get("/cds-services", headers=signer.headers(f"{BASE}/cds-services")).content


def _call(client: TestClient, signer: TestSigner) -> HookCall:
    calls = from_discovery(_discovery(client, signer), prefetch="complete")
    return find(calls["spasm-patient-view"], lambda call: True)


def _post(client: TestClient, call: HookCall, headers: dict[str, str]) -> httpx.Response:
    url = f"{BASE}/cds-services/{call.service}"
    return client.post(url, content=call.content, headers={"Content-Type": "application/json", **headers})


def test_a_call_signed_by_the_test_signer_is_accepted(client: TestClient, signer: TestSigner) -> None:
    call = _call(client, signer)
    assert _post(client, call, signer.headers(f"{BASE}/cds-services/{call.service}")).status_code == 200


def test_the_same_call_unsigned_is_refused(client: TestClient, signer: TestSigner) -> None:
    assert _post(client, _call(client, signer), {}).status_code == 401


def test_a_token_for_another_url_is_refused(client: TestClient, signer: TestSigner) -> None:
    call = _call(client, signer)
    assert _post(client, call, signer.headers(f"{BASE}/cds-services/other")).status_code == 401


def test_a_saved_signer_signs_with_the_same_key(tmp_path: object, signer: TestSigner) -> None:
    path = tmp_path / "key.json"  # type: ignore[operator]
    signer.save(path)
    assert TestSigner.load(path).jwks() == signer.jwks()


def test_calls_without_prefetch_point_the_service_at_the_loopback_server(
    client: TestClient, signer: TestSigner, fhir: LoopbackFhirServer
) -> None:
    records = patient_records(now=dt.datetime.now(dt.UTC))
    calls = from_discovery(_discovery(client, signer), records, prefetch="short", fhir=fhir)
    call = find(calls["spasm-patient-view"], lambda call: not call.shapes)
    fhir.hold(call.record)
    before = len(fhir.queries)
    response = _post(client, call, signer.headers(f"{BASE}/cds-services/{call.service}"))
    assert response.status_code == 200, response.text
    asked = {query.split("?")[0].split("/")[0] for query in fhir.queries[before:]}
    assert {"Patient", "Condition", "Observation"} <= asked


def test_the_loopback_server_reads_and_searches_the_record(fhir: LoopbackFhirServer) -> None:
    record: PatientRecord = find(patient_records(now=dt.datetime.now(dt.UTC)), lambda r: len(r.entries) > 3)
    fhir.hold(record)
    token = {"Authorization": f"Bearer {fhir.token}"}
    patient = httpx.get(f"{fhir.base_url}/Patient/{record.patient_id}", headers=token).json()
    assert patient["id"] == record.patient_id
    bundle = httpx.get(f"{fhir.base_url}/Condition?patient={record.patient_id}", headers=token).json()
    expected = [
        r
        for r in record.resources
        if r["resourceType"] == "Condition" and record.patient_id in str(r["subject"])
    ]
    assert [e["resource"] for e in bundle.get("entry", [])] == expected


def test_the_loopback_server_refuses_another_token(fhir: LoopbackFhirServer) -> None:
    answer = httpx.get(f"{fhir.base_url}/Patient/pat-1", headers={"Authorization": "Bearer other"})
    assert answer.status_code == 401
