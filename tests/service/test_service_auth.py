"""JWT trust per CDS Hooks 2.0: who may call, and that a refusal tells the caller nothing."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from service_fhir_server import FhirTestServer
from service_helpers import (
    BASE,
    FEEDBACK,
    FIXTURES,
    ISSUER,
    PATIENT_VIEW,
    MakeClient,
    bearer,
    claims,
    hook_call,
    public_jwks,
    sign,
)
from starlette.testclient import TestClient

DISCOVERY = BASE + "/cds-services"
SANDBOX = "https://sandbox.cds-hooks.org"
SANDBOX_JWKS = FIXTURES.parents[1] / "shared" / "reference" / "cds-hooks-sandbox-jwks.json"


@pytest.fixture
def secured(make_client: MakeClient, es384_key: ECKey, rs384_key: RSAKey) -> TestClient:
    issuer = {"iss": ISSUER, "jwks": public_jwks(es384_key, rs384_key)}
    return make_client(auth="jwt", trusted_issuers=[issuer])


def _discover(client: TestClient, token: str) -> int:
    return client.get("/cds-services", headers=bearer(token)).status_code


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_an_es384_token_from_a_trusted_issuer_is_accepted(secured: TestClient, es384_key: ECKey) -> None:
    assert _discover(secured, sign(es384_key, claims(DISCOVERY))) == 200


def test_an_rs384_token_from_a_trusted_issuer_is_accepted(secured: TestClient, rs384_key: RSAKey) -> None:
    assert _discover(secured, sign(rs384_key, claims(DISCOVERY))) == 200


def test_a_call_is_accepted_with_its_own_url_as_audience(
    secured: TestClient, es384_key: ECKey, urgent_prefetch: dict[str, Any]
) -> None:
    token = sign(es384_key, claims(BASE + PATIENT_VIEW))
    assert (
        secured.post(PATIENT_VIEW, json=hook_call(urgent_prefetch), headers=bearer(token)).status_code == 200
    )


def test_feedback_needs_the_feedback_url_as_audience(secured: TestClient, es384_key: ECKey) -> None:
    entry = {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z"}
    body = {"feedback": [entry]}
    wrong = sign(es384_key, claims(BASE + PATIENT_VIEW))
    right = sign(es384_key, claims(BASE + FEEDBACK))
    assert secured.post(FEEDBACK, json=body, headers=bearer(wrong)).status_code == 401
    assert secured.post(FEEDBACK, json=body, headers=bearer(right)).status_code == 200


def test_a_token_for_another_url_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    assert _discover(secured, sign(es384_key, claims("https://other.example.org/cds-services"))) == 401


def test_an_expired_token_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    now = int(time.time())
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, iat=now - 420, exp=now - 120))) == 401


def test_a_token_expired_within_the_clock_skew_is_accepted(secured: TestClient, es384_key: ECKey) -> None:
    now = int(time.time())
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, iat=now - 310, exp=now - 10))) == 200


def test_a_token_issued_in_the_future_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    now = int(time.time())
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, iat=now + 600, exp=now + 900))) == 401


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti"])
def test_a_token_missing_a_required_claim_is_refused(
    secured: TestClient, es384_key: ECKey, claim: str
) -> None:
    payload = claims(DISCOVERY)
    del payload[claim]
    assert _discover(secured, sign(es384_key, payload)) == 401


def test_a_token_with_an_unknown_kid_is_refused(secured: TestClient) -> None:
    stranger = ECKey.generate_key("P-384", parameters={"kid": "es-unknown"}, private=True)
    assert _discover(secured, sign(stranger, claims(DISCOVERY))) == 401


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(secured: TestClient) -> None:
    impostor = ECKey.generate_key("P-384", parameters={"kid": "es-1"}, private=True)
    assert _discover(secured, sign(impostor, claims(DISCOVERY))) == 401


def test_alg_none_is_refused(secured: TestClient) -> None:
    token = _unsigned({"alg": "none", "kid": "es-1", "typ": "JWT"}, claims(DISCOVERY))
    assert _discover(secured, token) == 401


def test_hs256_signed_with_the_public_key_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    secret = OctKey.import_key(orjson.dumps(es384_key.as_dict(private=False)))
    token = jwt.encode({"alg": "HS256", "kid": "es-1"}, claims(DISCOVERY), secret, algorithms=["HS256"])
    assert _discover(secured, token) == 401


def test_a_replayed_jti_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    token = sign(es384_key, claims(DISCOVERY))
    assert [_discover(secured, token), _discover(secured, token)] == [200, 401]


def test_a_replayed_jti_is_refused_by_another_worker(
    make_client: MakeClient, secured: TestClient, es384_key: ECKey, rs384_key: RSAKey
) -> None:
    other_worker = make_client(auth="jwt", trusted_issuers=[{"iss": ISSUER, "jwks": public_jwks(es384_key)}])
    token = sign(es384_key, claims(DISCOVERY))
    assert [_discover(secured, token), _discover(other_worker, token)] == [200, 401]


def test_an_untrusted_issuer_is_refused(secured: TestClient, es384_key: ECKey) -> None:
    assert _discover(secured, sign(es384_key, claims(DISCOVERY, iss="https://evil.example.org"))) == 401


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer ", "Bearer not.a.jwt"])
def test_a_missing_or_malformed_authorization_is_refused(secured: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    assert secured.get("/cds-services", headers=headers).status_code == 401


def test_a_refusal_says_nothing_about_why(secured: TestClient, es384_key: ECKey) -> None:
    now = int(time.time())
    response = secured.get("/cds-services", headers=bearer(sign(es384_key, claims(DISCOVERY, exp=now - 999))))
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["issue"] == [{"severity": "error", "code": "login", "diagnostics": "unauthorized"}]


def test_a_refusal_is_logged_with_reason_iss_and_jti_but_never_the_token(
    secured: TestClient, es384_key: ECKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cds")
    payload = claims("https://other.example.org/", tenant="clinic-7")
    token = sign(es384_key, payload)
    _discover(secured, token)
    refusals = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "auth_refused"]
    assert [r.fields for r in refusals] == [  # type: ignore[attr-defined]
        {
            "event": "auth_refused",
            "reason": "audience",
            "iss": ISSUER,
            "tenant": "clinic-7",
            "jti": payload["jti"],
        }
    ]
    assert all(token not in str(record.__dict__) for record in caplog.records)


def test_health_and_metrics_need_no_token(secured: TestClient) -> None:
    assert secured.get("/healthz").status_code == 200
    assert secured.get("/metrics").status_code == 200


def test_with_no_issuer_configured_every_call_is_refused(make_client: MakeClient, es384_key: ECKey) -> None:
    client = make_client(auth="jwt")
    assert _discover(client, sign(es384_key, claims(DISCOVERY))) == 401


def test_the_sandbox_key_set_is_accepted_inline_as_an_issuer(
    make_client: MakeClient, es384_key: ECKey
) -> None:
    if not SANDBOX_JWKS.is_file():
        pytest.skip(f"shared reference not found at {SANDBOX_JWKS}")
    jwks = orjson.loads(SANDBOX_JWKS.read_bytes())
    client = make_client(auth="jwt", trusted_issuers=[{"iss": SANDBOX, "jwks": jwks}])
    forged = sign(es384_key, claims(DISCOVERY, iss=SANDBOX), kid=jwks["keys"][0]["kid"])
    assert client.get("/healthz").status_code == 200
    assert _discover(client, forged) == 401


def test_a_key_from_an_allowlisted_jku_is_fetched_and_accepted(
    make_client: MakeClient, fhir_server: FhirTestServer
) -> None:
    rotated = ECKey.generate_key("P-384", parameters={"kid": "es-jku"}, private=True)
    fhir_server.jwks = public_jwks(rotated)
    jku = f"{fhir_server.url('keys')}/jwks.json"
    client = make_client(auth="jwt", trusted_issuers=[{"iss": ISSUER, "jku": [jku]}])
    assert _discover(client, sign(rotated, claims(DISCOVERY), jku=jku)) == 200


def test_a_jku_off_the_allowlist_is_never_fetched(secured: TestClient, fhir_server: FhirTestServer) -> None:
    stranger = ECKey.generate_key("P-384", parameters={"kid": "es-elsewhere"}, private=True)
    fhir_server.jwks = public_jwks(stranger)
    fhir_server.seen.clear()
    jku = f"{fhir_server.url('keys')}/jwks.json"
    assert _discover(secured, sign(stranger, claims(DISCOVERY), jku=jku)) == 401
    assert fhir_server.requests_for("keys") == []
