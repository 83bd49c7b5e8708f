"""Every error leaves the service as a FHIR OperationOutcome (the CDS Hooks 3.0 ballot makes this normative).

A client can act on the issue's `expression` (the request field at fault) and `diagnostics` (what was
expected); nothing about the patient's data is ever echoed back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cds.fielderrors import message_of
from cds.service.logging import get_logger
from cds.store import StoreUnavailable

IssueType = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "not-found",
    "not-supported",
    "too-long",
    "incomplete",
    "login",
    "timeout",
    "transient",
    "exception",
    "processing",
]
FHIR_JSON = "application/fhir+json"

store_log = get_logger("app")
"""The logger the database outage has always been reported under."""


class Issue(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Literal["fatal", "error", "warning", "information"] = "error"
    code: IssueType
    diagnostics: str
    expression: tuple[str, ...] | None = None


class OperationOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    resourceType: Literal["OperationOutcome"] = "OperationOutcome"
    issue: tuple[Issue, ...]


class ServiceError(Exception):
    """A request the service answers with an error status; each issue names what to fix."""

    def __init__(self, status: int, issues: Sequence[Issue], headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(status)
        self.status = status
        self.issues = tuple(issues)
        self.headers = tuple(headers)

    @classmethod
    def single(
        cls, status: int, code: IssueType, diagnostics: str, expression: str | None = None
    ) -> ServiceError:
        where = (expression,) if expression else None
        return cls(status, (Issue(code=code, diagnostics=diagnostics, expression=where),))

    def __str__(self) -> str:
        return "; ".join(issue.diagnostics for issue in self.issues)


_HTTP_ISSUES: dict[int, tuple[IssueType, str]] = {
    404: ("not-found", "no such endpoint; the services are listed at GET /cds-services"),
    405: ("not-supported", "method not allowed on this endpoint"),
}


def invalid_request(error: ValidationError, prefix: str = "") -> ServiceError:
    """A 400 naming each field at fault by its path in the request body, e.g. `context.patientId`."""
    issues = []
    for detail in error.errors(include_input=False, include_url=False):
        path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in detail["loc"]).lstrip(
            "."
        )
        path = path or "body"
        code: IssueType = "required" if detail["type"] == "missing" else "value"
        message = message_of(detail)
        issues.append(Issue(code=code, diagnostics=f"{path}: {message}", expression=(path,)))
    return ServiceError(400, issues)


def outcome_response(
    status: int, issues: Sequence[Issue], headers: Sequence[tuple[str, str]] = ()
) -> Response:
    body = orjson.dumps(OperationOutcome(issue=tuple(issues)).model_dump(mode="json", exclude_none=True))
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=dict(headers))


def unexpected_error_response() -> Response:
    """The last resort: the exception is logged by the caller, the client learns only that it failed."""
    issue = Issue(severity="fatal", code="exception", diagnostics="internal error; the service logged it")
    return outcome_response(500, [issue])


async def service_error_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return outcome_response(exc.status, exc.issues, exc.headers)


async def http_error_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, text = _HTTP_ISSUES.get(exc.status_code, ("processing", str(exc.detail)))
    return outcome_response(
        exc.status_code, [Issue(code=code, diagnostics=text)], tuple((exc.headers or {}).items())
    )


async def store_unavailable_handler(_: Request, error: Exception) -> Response:
    """A 503 the caller may retry (nothing was stored); which database and why goes to the log only."""
    store_log.warning("database unavailable: %s", error, extra={"fields": {"event": "store_unavailable"}})
    issue = Issue(code="transient", diagnostics="the service's database is unavailable; retry later")
    return outcome_response(503, [issue], (("Retry-After", "5"),))


ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]
EXCEPTION_HANDLERS: Mapping[type[Exception], ErrorHandler] = {
    ServiceError: service_error_handler,
    HTTPException: http_error_handler,
    StoreUnavailable: store_unavailable_handler,
}
"""The errors a request may end in and their answers, for the app's routes and the direct route alike."""


def handler_for(error: Exception) -> ErrorHandler | None:
    """The handler of the error's nearest class, as Starlette looks it up; None for a bug."""
    for kind in type(error).__mro__:
        handler = EXCEPTION_HANDLERS.get(kind)
        if handler is not None:
            return handler
    return None
