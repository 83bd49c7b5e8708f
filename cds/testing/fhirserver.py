"""A FHIR server on loopback holding the record under test, so a service's fallback path is tested too.

CDS Hooks lets a service query `fhirServer` with the `fhirAuthorization` token for what prefetch lacks.
The harness loads each call's record here before sending it; reads and type-level searches are answered
from it the way `cds.testing.discovery` answers prefetch queries, and only with the right token.

    with LoopbackFhirServer() as fhir:
        calls = from_discovery(url, fhir=fhir)
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from types import TracebackType
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cds.testing.discovery import parse_query
from cds.testing.fhir_values import JsonObject
from cds.testing.records import PatientRecord, as_bundle

FHIR_JSON = "application/fhir+json"
START_SECONDS = 10


def _outcome(code: str, status: int) -> Response:
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code}]}
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


class LoopbackFhirServer:
    """Serves one record at a time on 127.0.0.1; `queries` lists what services asked, in order."""

    def __init__(self, port: int = 0) -> None:
        """On `port` (default: any free one; fix it when the service allowlists its FHIR servers)."""
        self.token = secrets.token_urlsafe(24)
        self.queries: list[str] = []
        self._resources: list[JsonObject] = []
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        app = Starlette(routes=[Route("/fhir/{path:path}", self._handle)])
        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def authorization(self, patient_id: str) -> JsonObject:
        """The `fhirAuthorization` a call carries: a bearer token good for this server."""
        return {
            "access_token": self.token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/Patient.read patient/Condition.read patient/Observation.read",
            "subject": "cds-service",
            "patient": patient_id,
        }

    def hold(self, record: PatientRecord) -> None:
        """Answer from `record` from now on."""
        self._resources = record.resources

    def start(self) -> LoopbackFhirServer:
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the loopback FHIR server did not start within {START_SECONDS} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_SECONDS)

    def __enter__(self) -> LoopbackFhirServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _handle(self, request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        query = f"{path}?{request.url.query}" if request.url.query else path
        self.queries.append(query)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _outcome("login", 401)
        answer: Any = parse_query("query", query).answer(query, self._resources)
        if isinstance(answer, list):
            return Response(orjson.dumps(as_bundle(answer, "searchset")), media_type=FHIR_JSON)
        if answer is None:
            return _outcome("not-found", 404)
        return Response(orjson.dumps(answer), media_type=FHIR_JSON)
