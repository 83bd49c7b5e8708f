"""Prefetch as CDS Hooks 2.0 sends it, completed from the client's FHIR server where it falls short.

What counts as required: the Patient, its Conditions and its Observations, because red flags (the
reason this service exists) are recorded there; answering without them could hide a warning, so the
service answers 412 instead. Medications only ever explain a benign spasm, so when they cannot be had
the service evaluates without them rather than fail the call.

Per key: absent or an OperationOutcome means "missing" and is queried from `fhirServer` when the
client sent `fhirAuthorization` (or `fhirServer` is one of `fhir_open_servers`) and `fhirServer` is on
the caller's allowlist; `null` means the client found nothing and is never queried again; a Bundle
with a `next` link has its other pages read from `fhirServer`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cds.fhir import FhirText, InputError, ReadResult, read_prefetch
from cds.service import metrics
from cds.service.errors import Issue, ServiceError
from cds.service.fhirclient import FetchFailure, FhirServerClient, has_next_link
from cds.service.hooks import HookContext, HookRequest
from cds.service.logging import get_logger
from cds.service.settings import is_loopback_url
from cds.service.templates import OPTIONAL_KEYS
from cds.service.urls import NormalUrl, normalise

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}

log = get_logger("prefetch")
_WHY = {
    "null": "the client sent null",
    "no-server": "not in prefetch and no fhirServer (with fhirAuthorization, over https) to query",
    "not-allowed": "fhirServer is not on the allowlist, or resolves to an address not listed",
    "refused": "the FHIR server refused the access token",
    "not-found": "the FHIR server has no such resource",
    "timeout": "the FHIR server did not answer in time",
    "unreachable": "the FHIR server cannot be reached",
    "server-error": "the FHIR server answered an error",
    "invalid": "the FHIR server's answer is not usable FHIR",
    "paging": "the FHIR server's paging did not end",
}
"""Why a key is missing, for the log: fixed text, because a FHIR server's own messages may quote data."""


@dataclass(frozen=True)
class Resolved:
    read: ReadResult
    fetched: tuple[str, ...]
    """Keys read (wholly or partly) from fhirServer."""
    unavailable: tuple[str, ...]
    """Optional keys evaluated without."""


@dataclass(frozen=True)
class _Plan:
    given: dict[str, Any]
    """Keys the client sent in full (or as null)."""
    paged: dict[str, Any]
    """Keys the client sent the first page of."""
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Missing:
    key: str
    kind: str
    """The FetchFailure kind, or `null` when the client sent null for the patient."""
    why: str


class RequiredDataUnavailable(ServiceError):
    """Required prefetch data neither sent nor obtainable; `missing` says which key and why."""

    def __init__(self, status: int, missing: Sequence[Missing]) -> None:
        code = "processing" if status == 412 else "timeout" if status == 504 else "transient"
        issues = [
            Issue(
                code=code,
                diagnostics=f"prefetch.{item.key}: required data cannot be had: {item.why}",
                expression=(f"prefetch.{item.key}",),
            )
            for item in missing
        ]
        super().__init__(status, issues)
        self.missing = tuple(missing)


class PrefetchResolver:
    def __init__(
        self,
        client: FhirServerClient,
        *,
        total_timeout: float,
        allow_http: bool,
        open_servers: Sequence[str] = (),
        servers_for: Callable[[str | None], Sequence[NormalUrl]],
    ) -> None:
        """`servers_for` gives the FHIR server base URLs a caller (by issuer) may name (`fhir_servers`),
        asked only when a call needs its fhirServer."""
        self.client = client
        self.servers_for = servers_for
        self.total_timeout = total_timeout
        self.allow_http = allow_http
        self.open_servers = tuple(normalise(url) for url in open_servers)

    async def resolve(
        self,
        request: HookRequest,
        context: HookContext,
        templates: Mapping[str, str],
        issuer: str | None = None,
    ) -> Resolved:
        """Raises ServiceError: 400 for non-FHIR prefetch; RequiredDataUnavailable (412, 502, 504).

        `issuer` is the caller's (None with auth off), which picks the FHIR servers it may name.
        """
        plan = _plan(request.prefetch or {}, templates)
        if plan.given.get("patient", True) is None:
            raise _unavailable(412, [Missing("patient", "null", "the client sent null: it found no Patient")])
        if not plan.missing and not plan.paged:
            return Resolved(_read(plan.given), (), ())
        refusal = self._cannot_query(request, self.servers_for(issuer))
        if refusal is not None:
            read = _read({**plan.given, **plan.paged})
            failures = {key: refusal for key in plan.missing}
            return Resolved(read, (), _check_failures(failures))
        read = _read(plan.given)
        fetched, failures = await self._fetch(request, context, templates, plan)
        unavailable = _check_failures(failures)
        extra = read_prefetch(fetched)
        return Resolved(
            ReadResult(read.resources + extra.resources, read.notes + extra.notes),
            tuple(fetched),
            unavailable,
        )

    def _cannot_query(self, request: HookRequest, allowed: Sequence[NormalUrl]) -> FetchFailure | None:
        if request.fhirServer is None:
            return FetchFailure(
                "no-server", "not in prefetch (absent or an OperationOutcome), and no fhirServer to query"
            )
        server = normalise(request.fhirServer)
        is_open = any(server.is_within(base) for base in self.open_servers)
        if request.fhirAuthorization is None and not is_open:
            return FetchFailure(
                "no-server",
                "not in prefetch (absent or an OperationOutcome), and no fhirAuthorization for fhirServer "
                "(which is not one of the open servers in fhir_open_servers)",
            )
        plain_http = server.scheme != "https" and not (self.allow_http or is_loopback_url(request.fhirServer))
        if request.fhirAuthorization is not None and plain_http:
            return FetchFailure(
                "no-server",
                "not in prefetch, and fhirServer is not https (the access token only goes over https)",
            )
        if not is_open and not any(server.is_within(base) for base in allowed):
            return FetchFailure(
                "not-allowed",
                "not in prefetch, and fhirServer is not on this service's allowlist for the caller "
                "(fhir_servers)",
            )
        return None

    async def _fetch(
        self, request: HookRequest, context: HookContext, templates: Mapping[str, str], plan: _Plan
    ) -> tuple[dict[str, Any], dict[str, FetchFailure]]:
        assert request.fhirServer is not None
        base = request.fhirServer
        token = (
            request.fhirAuthorization.access_token.get_secret_value()
            if request.fhirAuthorization is not None
            else None
        )
        values = context.model_dump()
        jobs: dict[str, asyncio.Task[dict[str, Any]]] = {}
        failures: dict[str, FetchFailure] = {}
        for key in plan.missing:
            query = render_query(templates[key], values)
            if query is None:
                failures[key] = FetchFailure("invalid", "its query needs a value the hook context lacks")
            elif key == "patient":
                jobs[key] = asyncio.create_task(self._patient(base, f"{base}/{query}", token, context))
            else:
                jobs[key] = asyncio.create_task(self.client.fetch(base, f"{base}/{query}", token))
        for key, first_page in plan.paged.items():
            jobs[key] = asyncio.create_task(self.client.rest_of(base, first_page, token))
        for key in jobs:
            metrics.PREFETCH_FALLBACKS.labels(key=key).inc()
        started = time.perf_counter()
        if jobs:
            await asyncio.wait(jobs.values(), timeout=self.total_timeout)
        fetched: dict[str, Any] = {}
        for key, job in jobs.items():
            if not job.done():
                job.cancel()
                failures[key] = FetchFailure(
                    "timeout", f"the FHIR server took over {self.total_timeout:g} s in all"
                )
            elif isinstance(error := job.exception(), FetchFailure):
                failures[key] = error
            elif error is not None:
                raise error
            else:
                fetched[key] = job.result()
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        for key, failure in failures.items():
            metrics.FHIR_ERRORS.labels(kind=failure.kind).inc()
            log.warning(
                "FHIR server query failed",
                extra={"fields": {"prefetch_key": key, "failure": failure.kind, "fhir_ms": elapsed_ms}},
            )
        return fetched, failures

    async def _patient(self, base: str, url: str, token: str | None, context: HookContext) -> dict[str, Any]:
        """The context's Patient; another patient's record in its place is a FHIR server error (502)."""
        patient = await self.client.fetch(base, url, token)
        if patient.get("resourceType") != "Patient" or patient.get("id") != context.patientId:
            raise FetchFailure(
                "invalid", "the FHIR server answered the Patient read with a different patient or resource"
            )
        return patient


def render_query(template: str, context: Mapping[str, Any]) -> str | None:
    """The template with its tokens filled in, or None when the context lacks a token's value."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        found: Any = None
        if name.startswith("context."):
            found = context.get(name.removeprefix("context."))
        elif name in _USER_TOKENS:
            kind, _, identifier = str(context.get("userId") or "").partition("/")
            found = identifier if kind == _USER_TOKENS[name] else None
        if not isinstance(found, str) or not found:
            missing = True
            return ""
        return quote(found, safe="")

    rendered = _TOKEN.sub(value, template)
    return None if missing else rendered


def _plan(prefetch: Mapping[str, Any], templates: Mapping[str, str]) -> _Plan:
    """Keeps only the keys the service asked for: other keys are unknown fields and are ignored.

    A value still as FhirText stays so when given; a first page or an OperationOutcome is parsed."""
    given: dict[str, Any] = {}
    paged: dict[str, Any] = {}
    missing: list[str] = []
    for key in templates:
        if key not in prefetch:
            missing.append(key)
            continue
        value = prefetch[key]
        if isinstance(value, FhirText) and (
            value.resource_type == "OperationOutcome"
            or ((link := value.link) is not None and has_next_link({"link": link}))
        ):
            value = value.json()
        kind = value.get("resourceType") if isinstance(value, dict) else None
        if kind == "OperationOutcome":
            missing.append(key)
        elif kind == "Bundle" and has_next_link(value):
            paged[key] = value
        else:
            given[key] = value
    return _Plan(given, paged, tuple(missing))


def _read(given: Mapping[str, Any]) -> ReadResult:
    try:
        return read_prefetch(given)
    except InputError as error:
        key = str(error).partition(":")[0]
        where = key if key.startswith("prefetch.") else "prefetch"
        raise ServiceError.single(400, "structure", str(error), where) from None


def _check_failures(failures: Mapping[str, FetchFailure]) -> tuple[str, ...]:
    """Raises for a required key that failed; returns the optional keys the evaluation goes without."""
    required = [(key, failure) for key, failure in failures.items() if key not in OPTIONAL_KEYS]
    if required:
        statuses = {failure.status for _, failure in required}
        status = 412 if statuses == {412} else 504 if 504 in statuses else 502
        raise _unavailable(status, [Missing(key, failure.kind, failure.message) for key, failure in required])
    return tuple(failures)


def _unavailable(status: int, missing: list[Missing]) -> RequiredDataUnavailable:
    """Logged here, once per call, so the log says which keys were missing and why."""
    log.warning(
        "required prefetch data cannot be had",
        extra={
            "fields": {
                "event": "required_data_unavailable",
                "status": status,
                "missing": {item.key: item.kind for item in missing},
                "why": {item.key: _WHY.get(item.kind, item.kind) for item in missing},
            }
        },
    )
    return RequiredDataUnavailable(status, missing)
