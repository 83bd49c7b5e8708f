"""A real HTTP FHIR server on loopback for the fallback tests, misbehaving in whichever way a test asks.

The first path segment picks the behaviour: `/ok/Condition?patient=...` answers properly (one entry per
page, so paging is always exercised; search parameters applied as a real server applies them: `patient`,
`code` and `category` tokens, `system|code` exact, `status`, and only the current version of each
resource), `/error/...` answers 500, `/stall/...` never answers in time,
and so on. Every request is recorded so tests can check what the service sent; the bodies streamed
without Content-Length count what they sent in `streamed`.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

TOKEN = "fallback-access-token-7f3a9c"
SLOW_SECONDS = 0.3
STALL_SECONDS = 5.0
HUGE_BYTES = 200_000
BOMB_BYTES = 20_000_000
"""Decompressed size of the gzip bomb; compressed it is about 20 KB."""
ENDLESS_BYTES = 50_000_000
"""How much a body without Content-Length would stream if the reader never stopped."""
TRICKLE_SECONDS = 0.2
SEARCH_TYPES = ("Condition", "Observation", "MedicationRequest", "MedicationStatement")


@dataclass(frozen=True)
class Seen:
    mode: str
    path: str
    query: str
    authorization: str | None
    at: float


class FhirTestServer:
    def __init__(self, record: dict[str, Any]) -> None:
        self.patient: dict[str, Any] = record["patient"]
        self.entries: dict[str, list[dict[str, Any]]] = {name: [] for name in SEARCH_TYPES}
        for key, value in record.items():
            if key == "patient" or not isinstance(value, dict):
                continue
            for entry in _current_versions(value.get("entry", [])):
                self.entries[entry["resource"]["resourceType"]].append({"resource": entry["resource"]})
        self.seen: list[Seen] = []
        self.streamed: dict[str, int] = {}
        self._bomb = gzip.compress(orjson.dumps({"resourceType": "Bundle", "padding": " " * BOMB_BYTES}))
        self.jwks: dict[str, Any] = {"keys": []}
        """Served without auth at /keys/jwks.json, as an issuer's jku."""
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        app = Starlette(routes=[Route("/{mode}/{path:path}", self._handle)])
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, mode: str) -> str:
        return f"{self.root}/{mode}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test FHIR server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def requests_for(self, mode: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.mode == mode]

    async def _handle(self, request: Request) -> Response:
        mode = request.path_params["mode"]
        path = request.path_params["path"]
        authorization = request.headers.get("authorization")
        self.seen.append(Seen(mode, path, request.url.query, authorization, time.monotonic()))
        if mode == "keys":
            return _json(self.jwks)
        if mode == "keys-trickle":
            return StreamingResponse(self._trickle(orjson.dumps(self.jwks)), media_type="application/json")
        if mode == "keys-huge":
            return StreamingResponse(self._endless(mode), media_type="application/json")
        if (authorization != f"Bearer {TOKEN}" and mode != "open") or mode == "unauthorized":
            return _json(
                {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}, 401
            )
        if mode == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        if mode == "stall":
            await asyncio.sleep(STALL_SECONDS)
        if mode == "error" or (mode == "medsfail" and path.startswith("Medication")):
            return _json(
                {"resourceType": "OperationOutcome", "issue": [{"severity": "fatal", "code": "exception"}]},
                500,
            )
        if mode == "garbage":
            return Response(b"<html><body>Service Unavailable</body></html>", media_type="text/html")
        if mode == "notfhir":
            return _json([1, 2, 3])
        if mode == "huge":
            return _json({"resourceType": "Bundle", "type": "searchset", "padding": "x" * HUGE_BYTES})
        if mode == "gzipbad":
            return Response(b"this is not gzip", media_type="application/fhir+json", headers=_GZIP)
        if mode == "bomb":
            return StreamingResponse(iter([self._bomb]), media_type="application/fhir+json", headers=_GZIP)
        if mode == "endless-body":
            return StreamingResponse(self._endless(f"{mode}/{path}"), media_type="application/fhir+json")
        if mode == "otherpatient" and path.startswith("Patient/"):
            return _json({**self.patient, "id": "someone-else"})
        return self._answer(mode, path, request)

    async def _endless(self, name: str) -> AsyncIterator[bytes]:
        self.streamed[name] = 0
        chunk = b" " * 65_536
        while self.streamed[name] < ENDLESS_BYTES:
            self.streamed[name] += len(chunk)
            yield chunk
            await asyncio.sleep(0)

    @staticmethod
    async def _trickle(body: bytes) -> AsyncIterator[bytes]:
        for index in range(len(body)):
            yield body[index : index + 1]
            await asyncio.sleep(TRICKLE_SECONDS)

    def _answer(self, mode: str, path: str, request: Request) -> Response:
        base = f"{request.url.scheme}://{request.url.netloc}/{mode}"
        if path.startswith("Patient/"):
            if path.removeprefix("Patient/") != self.patient["id"]:
                return _json(
                    {
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "not-found"}],
                    },
                    404,
                )
            return _json(self.patient)
        page = int(request.query_params.get("_page", "1"))
        entries = [e for e in self.entries.get(path, []) if _matches(e["resource"], request.query_params)]
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(entries)}
        if entries[page - 1 : page]:
            bundle["entry"] = entries[page - 1 : page]
        next_url = self._next(mode, base, path, request, page, has_more=page < len(entries))
        if next_url is not None:
            bundle["link"] = [{"relation": "next", "url": next_url}]
        return _json(bundle)

    @staticmethod
    def _next(mode: str, base: str, path: str, request: Request, page: int, has_more: bool) -> str | None:
        patient = request.query_params.get("patient", "")
        if mode == "endless":
            return f"{base}/{path}?patient={patient}&_page={page + 1}"
        if mode == "loop":
            return str(request.url)
        if mode == "elsewhere":
            return f"http://elsewhere.invalid/fhir/{path}?_page={page + 1}"
        if mode == "dotdot":
            return f"{base}/../admin/{path}?_page={page + 1}"
        return f"{base}/{path}?patient={patient}&_page={page + 1}" if has_more else None


_GZIP = {"Content-Encoding": "gzip"}


def _current_versions(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A search answers with the current version of each resource only (the highest versionId)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        resource = entry["resource"]
        key = (resource["resourceType"], resource.get("id", str(id(entry))))
        version = int((resource.get("meta") or {}).get("versionId", "0"))
        kept = latest.get(key)
        if kept is None or version >= int((kept["resource"].get("meta") or {}).get("versionId", "0")):
            latest[key] = entry
    return list(latest.values())


def _token_matches(tokens: str, concepts: list[Any]) -> bool:
    """FHIR token search: `system|code` matches that system and code exactly, `code` any system's."""
    codings = [c for concept in concepts if isinstance(concept, dict) for c in concept.get("coding") or []]
    for token in tokens.split(","):
        system, bar, code = token.rpartition("|")
        for coding in codings:
            if coding.get("code") == code and (not bar or coding.get("system") == (system or None)):
                return True
    return False


def _matches(resource: dict[str, Any], params: Any) -> bool:
    patient = params.get("patient")
    if patient is not None:
        subject = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        if subject not in (patient, f"Patient/{patient}"):
            return False
    code = params.get("code")
    if code is not None and not _token_matches(code, [resource.get("code")]):
        return False
    category = params.get("category")
    if category is not None and not _token_matches(category, list(resource.get("category") or [])):
        return False
    status = params.get("status")
    return status is None or resource.get("status") in status.split(",")


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/fhir+json")
