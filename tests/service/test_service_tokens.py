"""How long a JWT may live, and what a jku key-set fetch may cost (issue 10)."""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import ECKey
from service_fhir_server import FhirTestServer
from service_helpers import BASE, ISSUER, MakeClient, bearer, claims, public_jwks, sign
from starlette.testclient import TestClient

DISCOVERY = BASE + "/cds-services"


@pytest.fixture
def secured(make_client: MakeClient, es384_key: ECKey) -> TestClient:
    return make_client(auth="jwt", trusted_issuers=[{"iss": ISSUER, "jwks": public_jwks(es384_key)}])


def _discover(client: TestClient, token: str) -> int:
    return client.get("/cds-services", headers=bearer(token)).status_code


def test_a_token_living_longer_than_five_minutes_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    now = int(time.time())
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, iat=now, exp=now + 3600))) == 401


def test_a_token_that_never_expires_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, exp=1e308))) == 401


def test_a_token_issued_long_ago_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    now = int(time.time())
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, iat=now - 400, exp=now + 100))) == 401


def test_a_five_minute_token_is_accepted(secured: TestClient, es384_key: ECKey) -> None:
    now = int(time.time())
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, iat=now, exp=now + 300))) == 200


def test_the_lifetime_is_a_setting(make_client: MakeClient, es384_key: ECKey) -> None:
    client = make_client(
        auth="jwt",
        trusted_issuers=[{"iss": ISSUER, "jwks": public_jwks(es384_key)}],
        jwt_max_lifetime_seconds=60,
    )
    now = int(time.time())
    assert _discover(client, sign(es384_key, claims(DISCOVERY, iat=now, exp=now + 120))) == 401


def test_a_refused_long_lived_token_leaves_no_jti_behind(secured: TestClient, es384_key: ECKey) -> None:
    forever = claims(DISCOVERY, exp=1e308)
    same_jti = claims(DISCOVERY, jti=forever["jti"])
    assert [_discover(secured, sign(es384_key, forever)), _discover(secured, sign(es384_key, same_jti))] == [
        401,
        200,
    ]


def test_a_jti_that_is_not_text_is_a_401_not_a_500(secured: TestClient, es384_key: ECKey) -> None:
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, jti=["a", "b"]))) == 401


def test_a_trickling_jku_is_given_up_after_one_total_deadline(
    make_client: MakeClient, fhir_server: FhirTestServer
) -> None:
    rotated = ECKey.generate_key("P-384", parameters={"kid": "es-trickle"}, private=True)
    fhir_server.jwks = public_jwks(rotated)
    jku = f"{fhir_server.url('keys-trickle')}/jwks.json"
    client = make_client(auth="jwt", trusted_issuers=[{"iss": ISSUER, "jku": [jku]}], jku_timeout_seconds=0.5)
    started = time.monotonic()
    assert _discover(client, sign(rotated, claims(DISCOVERY), jku=jku)) == 401
    assert time.monotonic() - started < 2.0


def test_a_huge_jku_key_set_is_cut_off_while_reading(
    make_client: MakeClient, fhir_server: FhirTestServer
) -> None:
    stranger = ECKey.generate_key("P-384", parameters={"kid": "es-huge"}, private=True)
    jku = f"{fhir_server.url('keys-huge')}/jwks.json"
    client = make_client(auth="jwt", trusted_issuers=[{"iss": ISSUER, "jku": [jku]}])
    assert _discover(client, sign(stranger, claims(DISCOVERY), jku=jku)) == 401
    assert fhir_server.streamed["keys-huge"] < 10_000_000
