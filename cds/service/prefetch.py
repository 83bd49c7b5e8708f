"""Prefetch as CDS Hooks 2.0 sends it, completed from the client's FHIR server where it falls short.

What counts as required: the Patient, its Conditions and its Observations, because red flags (the
reason this service exists) are recorded there; answering without them could hide a warning, so the
service answers 412 instead. Medications only ever explain a benign spasm, so when they cannot be had
the service evaluates without them rather than fail the call.

Per key: absent or an OperationOutcome means "missing" and is queried from `fhirServer` when the
client sent `fhirAuthorization`; `null` means the client found nothing and is never queried again; a
Bundle with a `next` link has its other pages read from `fhirServer`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from cds.fhir import InputError, ReadResult, read_prefetch
from cds.service import metrics
from cds.service.errors import Issue, ServiceError
from cds.service.fhirclient import FetchFailure, FhirServerClient, has_next_link
from cds.service.hooks import HookContext, HookRequest
from cds.service.logging import get_logger
from cds.service.settings import is_loopback_url

REQUIRED_KEYS = ("patient", "conditions", "observations")
OPTIONAL_KEYS = ("medicationRequests", "medicationStatements")

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}

log = get_logger("prefetch")


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


class PrefetchResolver:
    def __init__(self, client: FhirServerClient, *, total_timeout: float, allow_http: bool) -> None:
        self.client = client
        self.total_timeout = total_timeout
        self.allow_http = allow_http

    async def resolve(
        self, request: HookRequest, context: HookContext, templates: Mapping[str, str]
    ) -> Resolved:
        """Raises ServiceError: 400 for non-FHIR prefetch, 412 when required data cannot be had, 502/504."""
        plan = _plan(request.prefetch or {}, templates)
        if plan.given.get("patient", True) is None:
            raise _unavailable(412, [("patient", "the client sent null: it found no Patient")])
        if not plan.missing and not plan.paged:
            return Resolved(_read(plan.given), (), ())
        reason = self._cannot_query(request)
        if reason is not None:
            read = _read({**plan.given, **plan.paged})
            failures = {key: FetchFailure("no-server", reason) for key in plan.missing}
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

    def _cannot_query(self, request: HookRequest) -> str | None:
        if request.fhirServer is None or request.fhirAuthorization is None:
            return "not in prefetch (absent or an OperationOutcome), and no fhirServer with fhirAuthorization"
        if urlsplit(request.fhirServer).scheme != "https" and not (
            self.allow_http or is_loopback_url(request.fhirServer)
        ):
            return "not in prefetch, and fhirServer is not https (the access token only goes over https)"
        return None

    async def _fetch(
        self, request: HookRequest, context: HookContext, templates: Mapping[str, str], plan: _Plan
    ) -> tuple[dict[str, Any], dict[str, FetchFailure]]:
        assert request.fhirServer is not None and request.fhirAuthorization is not None
        base = request.fhirServer
        token = request.fhirAuthorization.access_token.get_secret_value()
        values = context.model_dump()
        jobs: dict[str, asyncio.Task[dict[str, Any]]] = {}
        failures: dict[str, FetchFailure] = {}
        for key in plan.missing:
            query = render_query(templates[key], values)
            if query is None:
                failures[key] = FetchFailure("invalid", "its query needs a value the hook context lacks")
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
    """Keeps only the keys the service asked for: other keys are unknown fields and are ignored."""
    given: dict[str, Any] = {}
    paged: dict[str, Any] = {}
    missing: list[str] = []
    for key in templates:
        if key not in prefetch:
            missing.append(key)
            continue
        value = prefetch[key]
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
        raise _unavailable(status, [(key, failure.message) for key, failure in required])
    return tuple(failures)


def _unavailable(status: int, problems: list[tuple[str, str]]) -> ServiceError:
    code = "processing" if status == 412 else "timeout" if status == 504 else "transient"
    issues = [
        Issue(
            code=code,
            diagnostics=f"prefetch.{key}: required data cannot be had: {why}",
            expression=(f"prefetch.{key}",),
        )
        for key, why in problems
    ]
    return ServiceError(status, issues)
