"""A small CDS Hooks service, independent of `cds.service`, with bugs planted on request.

It reviews the problem list: one card counting the patient's Conditions, suggesting a review
(a ServiceRequest). Run as `python planted_service.py PORT [--bug BUG ...] [--trust JWKS_FILE]`; the bugs:

- `crash-on-missing-prefetch`: reads `prefetch` without looking, and the process dies when it is absent
  (as AHRQ CQL Services did);
- `invalid-card`: the suggested ServiceRequest has no `status`;
- `ignores-null-patient`: a `null` Patient (the EHR has no such patient) is taken as present.

Without bugs it answers as the spec asks: 400 for a malformed call, 412 when the Patient cannot be had
(it asks `fhirServer` for a missing one), OperationOutcomes for errors, and with `--trust` it requires an
ES384 JWT signed by a key of that set, with `aud` the URL called.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path
from typing import Any, TypeGuard

import httpx
import orjson
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SERVICE_ID = "problem-list-review"
DISCOVERY = {
    "services": [
        {
            "hook": "patient-view",
            "id": SERVICE_ID,
            "title": "Problem list review",
            "description": "Counts the patient's conditions and suggests a problem list review.",
            "prefetch": {
                "patient": "Patient/{{context.patientId}}",
                "conditions": "Condition?patient={{context.patientId}}",
            },
        }
    ]
}
CRASH_EXIT_CODE = 70
BUGS = ("crash-on-missing-prefetch", "invalid-card", "ignores-null-patient")


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


def _outcome(status: int, code: str, diagnostics: str) -> Response:
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    return _json({"resourceType": "OperationOutcome", "issue": [issue]}, status)


class PlantedService:
    def __init__(self, bugs: set[str], trusted: KeySet | None) -> None:
        self.bugs = bugs
        self.trusted = trusted

    async def discovery(self, request: Request) -> Response:
        return _json(DISCOVERY)

    async def call(self, request: Request) -> Response:
        if request.path_params["service_id"] != SERVICE_ID:
            return _outcome(404, "not-found", "no such service")
        if self.trusted is not None and not self._authorised(request):
            return _outcome(401, "login", "a JWT from a trusted issuer is required")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _outcome(400, "invalid", "the body is not JSON")
        problem = _malformed(body)
        if problem:
            return _outcome(400, "required", problem)
        if "crash-on-missing-prefetch" in self.bugs:
            try:
                body["prefetch"]
            except KeyError:
                os._exit(CRASH_EXIT_CODE)
        prefetch = body.get("prefetch") or {}
        patient = prefetch.get("patient")
        if patient is None and "ignores-null-patient" in self.bugs and "patient" in prefetch:
            patient = {"resourceType": "Patient", "id": body["context"]["patientId"]}
        if not _is(patient, "Patient") and "patient" not in prefetch:
            patient = await _fetch_patient(body)
        if not _is(patient, "Patient"):
            return _outcome(412, "not-found", "prefetch.patient: the Patient is needed")
        return _json({"cards": [self._card(patient, prefetch.get("conditions"))]})

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.trusted is None:
            return False
        try:
            claims = jwt.decode(token, self.trusted, algorithms=["ES384"]).claims
        except ValueError:
            return False
        return claims.get("aud") == str(request.url)

    def _card(self, patient: dict[str, Any], conditions: Any) -> dict[str, Any]:
        count = sum(
            1
            for entry in (conditions or {}).get("entry") or []
            if (entry.get("resource") or {}).get("resourceType") == "Condition"
        )
        review = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "proposal",
            "code": {"text": "Problem list review"},
            "subject": {"reference": f"Patient/{patient['id']}"},
        }
        if "invalid-card" in self.bugs:
            del review["status"]
        return {
            "uuid": str(uuid.uuid4()),
            "summary": f"{count} condition(s) on the problem list",
            "indicator": "info",
            "source": {"label": "Problem list review"},
            "suggestions": [
                {
                    "label": "Review the problem list",
                    "uuid": str(uuid.uuid4()),
                    "actions": [{"type": "create", "description": "Order a review", "resource": review}],
                }
            ],
            "selectionBehavior": "at-most-one",
        }


def _is(value: Any, resource_type: str) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and value.get("resourceType") == resource_type


def _malformed(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body is not an object"
    for field in ("hook", "hookInstance", "context"):
        if field not in body:
            return f"{field} is required"
    context = body["context"]
    if body["hook"] != "patient-view" or not isinstance(context, dict):
        return "a patient-view call with a context object is expected"
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id or "/" in patient_id or " " in patient_id:
        return "context.patientId must be a FHIR id"
    try:
        uuid.UUID(str(body["hookInstance"]))
    except ValueError:
        return "hookInstance must be a UUID"
    user = context.get("userId")
    if not isinstance(user, str) or "/" not in user or not user[:1].isupper():
        return "context.userId must be a reference"
    prefetch = body.get("prefetch", {})
    if not isinstance(prefetch, dict):
        return "prefetch must be an object"
    if any(value is not None and not isinstance(value, dict) for value in prefetch.values()):
        return "prefetch values must be resources"
    if any(isinstance(value, dict) and "resourceType" not in value for value in prefetch.values()):
        return "prefetch values must be resources"
    return None


async def _fetch_patient(body: dict[str, Any]) -> Any:
    server = body.get("fhirServer")
    token = (body.get("fhirAuthorization") or {}).get("access_token")
    if not server or not token:
        return None
    url = f"{server}/Patient/{body['context']['patientId']}"
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    return response.json() if response.status_code == 200 else None


def main(arguments: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--bug", action="append", choices=BUGS, default=[], help="plant this bug")
    parser.add_argument("--trust", type=Path, help="a JWKS file of the keys calls must be signed with")
    options = parser.parse_args(arguments)
    trusted = KeySet.import_key_set(orjson.loads(options.trust.read_bytes())) if options.trust else None
    bugs = set(options.bug)
    service = PlantedService(bugs, trusted)
    app = Starlette(
        routes=[
            Route("/cds-services", service.discovery),
            Route("/cds-services/{service_id:path}", service.call, methods=["POST"]),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=options.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
