"""Helpers the service tests share: request bodies, signed tokens, card comparison."""

from __future__ import annotations

import copy
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from prometheus_client.parser import text_string_to_metric_families
from service_fhir_server import TOKEN

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
ISSUER = "https://ehr.example.org"
BASE = "http://testserver"
PATIENT_VIEW = "/cds-services/spasm-patient-view"
FEEDBACK = PATIENT_VIEW + "/feedback"
HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"

MakeClient = Callable[..., TestClient]
"""Starts the service app with the test settings; keyword arguments override settings."""


def hook_call(prefetch: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A valid patient-view call for the fixtures' patient, with any field replaced or added."""
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": HOOK_INSTANCE,
        "context": {"userId": "Practitioner/prac-1", "patientId": "pat-001"},
    }
    if prefetch is not None:
        body["prefetch"] = copy.deepcopy(prefetch)
    body.update(fields)
    return body


def public_jwks(*keys: ECKey | RSAKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def claims(aud: str = BASE + PATIENT_VIEW, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    values.update(overrides)
    return values


def sign(key: ECKey | RSAKey, payload: dict[str, Any], **header: Any) -> str:
    alg = "ES384" if isinstance(key, ECKey) else "RS384"
    return jwt.encode({"alg": alg, "kid": key.kid, **header}, payload, key, algorithms=[alg])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cards_without_uuids(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Cards as sent, minus the uuids that are new on every call."""
    cards = copy.deepcopy(response["cards"])
    for card in cards:
        card.pop("uuid")
        for suggestion in card.get("suggestions", []):
            suggestion.pop("uuid")
    return cards


def fallback_call(fhir_base: str, prefetch: dict[str, Any] | None = None) -> dict[str, Any]:
    """A call that leaves to the service what prefetch lacks: fhirServer with the test server's token."""
    authorization = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds-service",
    }
    return hook_call(prefetch, fhirServer=fhir_base, fhirAuthorization=authorization)


def metric_sample(client: TestClient, name: str, **labels: str) -> float:
    """A sample's value in the Prometheus text of GET /metrics (0 when absent)."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """For what the service does after answering (audit records and issued cards are written in batches)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)
