"""Where the service sends the client's access token, and how much of an answer it reads (issue 10)."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from typing import Any

import pytest
from service_fhir_server import FhirTestServer
from service_helpers import PATIENT_VIEW, MakeClient, fallback_call
from starlette.testclient import TestClient

from cds.service.addresses import GuardedBackend, is_public
from cds.service.urls import UrlRefused, normalise

pytestmark = pytest.mark.slow


def _diagnostics(response: Any) -> str:
    return " ".join(issue["diagnostics"] for issue in response.json()["issue"])


def test_a_next_link_that_climbs_out_of_fhir_server_with_dot_segments_gets_no_token(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    fhir_server.seen.clear()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("dotdot")))
    assert response.status_code == 502
    assert "outside fhirServer" in _diagnostics(response)
    assert fhir_server.requests_for("admin") == []


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        ("https://fhir.example.org/r4/Condition?patient=1", True),
        ("https://FHIR.example.org:443/r4/./Condition", True),
        ("https://fhir.example.org/r4/../admin", False),
        ("https://fhir.example.org/r4/%2e%2e/admin", False),
        ("https://fhir.example.org/r4x/Condition", False),
        ("http://fhir.example.org/r4/Condition", False),
        ("https://fhir.example.org:8443/r4/Condition", False),
    ],
)
def test_urls_are_compared_after_normalisation(url: str, inside: bool) -> None:
    assert normalise(url).is_within(normalise("https://fhir.example.org/r4")) is inside


def test_credentials_in_fhir_server_are_a_400_and_nothing_is_sent(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    fhir_server.seen.clear()
    base = fhir_server.url("ok").replace("http://", "http://user:secret@")
    response = client.post(PATIENT_VIEW, json=fallback_call(base))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["fhirServer"]
    assert "credentials" in _diagnostics(response)
    assert fhir_server.seen == []


def test_an_invalid_port_in_fhir_server_is_a_400(client: TestClient) -> None:
    response = client.post(PATIENT_VIEW, json=fallback_call("https://fhir.example.org:99999/r4"))
    assert response.status_code == 400
    assert "port" in _diagnostics(response)


def test_a_fhir_server_off_the_allowlist_is_never_contacted(
    make_client: MakeClient, fhir_server: FhirTestServer
) -> None:
    client = make_client(fhir_servers=[])
    fhir_server.seen.clear()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("ok")))
    assert response.status_code == 412
    assert "allowlist" in _diagnostics(response)
    assert fhir_server.seen == []


def test_an_issuer_s_own_fhir_servers_are_its_allowlist(make_client: MakeClient) -> None:
    client = make_client(
        fhir_servers=[],
        trusted_issuers=[
            {"iss": "https://ehr.example.org", "jwks": {"keys": []}, "fhir_servers": ["https://a.org/r4"]}
        ],
    )
    settings = client.app.state.service.settings  # type: ignore[attr-defined]
    assert [str(url) for url in settings.fhir_servers_for("https://ehr.example.org")] == ["https://a.org/r4"]
    assert settings.fhir_servers_for("https://other.example.org") == ()


def test_a_loopback_fhir_server_is_refused_unless_its_network_is_listed(
    make_client: MakeClient, fhir_server: FhirTestServer
) -> None:
    client = make_client(outbound_private_networks=[])
    fhir_server.seen.clear()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("ok")))
    assert response.status_code == 412
    assert "not public" in _diagnostics(response)
    assert fhir_server.seen == []


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "10.0.0.5", "127.0.0.1", "::1", "fd00:ec2::254", "100.64.0.1", "::ffff:10.0.0.1"],
)
def test_private_link_local_and_metadata_addresses_are_not_public(address: str) -> None:
    import ipaddress

    assert not is_public(ipaddress.ip_address(address))


def test_a_host_name_resolving_to_a_private_address_is_refused_before_connecting() -> None:
    backend = GuardedBackend(private_networks=())
    with pytest.raises(Exception, match="not public"):
        asyncio.run(backend.connect_tcp("localhost", 9, timeout=1.0))


def test_a_gzip_body_that_is_not_gzip_is_a_502(client: TestClient, fhir_server: FhirTestServer) -> None:
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("gzipbad")))
    assert response.status_code == 502
    assert "decoded" in _diagnostics(response)


def test_a_streamed_gzip_bomb_is_cut_off_without_inflating_it(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    tracemalloc.start()
    try:
        response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("bomb")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"peak traced memory during a call on a 20 MB gzip bomb: {peak / 1e6:.1f} MB")
    assert response.status_code == 502
    assert "larger than 100000 bytes" in _diagnostics(response)
    assert peak < 5_000_000


def test_a_body_without_content_length_is_cut_off_at_the_limit_as_it_streams(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    started = time.monotonic()
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("endless-body")))
    assert response.status_code == 502
    assert time.monotonic() - started < 2.0
    streams = [sent for name, sent in fhir_server.streamed.items() if name.startswith("endless-body/")]
    print("bytes streamed per query before the service hung up:", streams)
    assert streams and max(streams) < 10_000_000


def test_a_patient_read_answered_with_another_patient_is_a_502(
    client: TestClient, fhir_server: FhirTestServer
) -> None:
    response = client.post(PATIENT_VIEW, json=fallback_call(fhir_server.url("otherpatient")))
    assert response.status_code == 502
    assert response.json()["issue"][0]["expression"] == ["prefetch.patient"]
    assert "different patient" in _diagnostics(response)


def test_a_url_with_credentials_is_refused_by_normalisation() -> None:
    with pytest.raises(UrlRefused, match="credentials"):
        normalise("https://user:pw@fhir.example.org/r4")
