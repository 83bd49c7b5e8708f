"""Per request: an id, one structured log line, the metrics; and, apart, the last-resort 500.

Pure ASGI middleware rather than BaseHTTPMiddleware, which would add a task and a copy per request.
`RequestContext` is the outermost layer, so CORS preflights (answered by the CORS middleware, which
never calls the app) get their log line and metric like every other request; `UnexpectedErrors` sits
inside the CORS layer, so even a 500 carries the CORS headers a browser needs to read it. Latency is
taken when the last byte of the response is sent, so work scheduled after the response (recording
issued cards) does not count against it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cds.service import metrics
from cds.service.errors import unexpected_error_response
from cds.service.logging import get_logger, log_info, request_fields

REQUEST_ID_HEADER = b"x-request-id"
_CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._\-]{1,64}")

log = get_logger("http")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await observed(self.app, scope, receive, send)


async def observed(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Runs `app` with the request's id, then counts and logs it under the route Starlette matched."""
    observation = Observation(scope)

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            observation.status = message["status"]
            message["headers"] = [*message.get("headers", ()), observation.header]
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            observation.finished = time.perf_counter()
        await send(message)

    try:
        await app(scope, receive, send_with_id)
    finally:
        observation.end(_endpoint(scope))


class Observation:
    """One request's id, clock and log fields, from its start (`__init__`) to its metrics and access log
    line (`end`). Whoever sends the answer sets `status` and, with its last byte, `finished`; the
    direct route does so itself, the routed app through `observed`'s send."""

    __slots__ = ("_fields", "_token", "finished", "header", "method", "request_id", "started", "status")

    def __init__(self, scope: Scope) -> None:
        self.started = time.perf_counter()
        self.method: str = scope["method"]
        self.request_id = _request_id(scope)
        self.header = (REQUEST_ID_HEADER, self.request_id.encode())
        """The response header that carries the request id."""
        self._fields: dict[str, Any] = {"request_id": self.request_id}
        self._token = request_fields.set(self._fields)
        self.status = 500
        self.finished: float | None = None

    def end(self, endpoint: str) -> None:
        """Counts and logs the request under `endpoint`, the route template."""
        elapsed = (self.finished or time.perf_counter()) - self.started
        metrics.request_answered(endpoint, self.method, self.status, elapsed)
        if log.isEnabledFor(logging.INFO):
            line = {
                "event": "request",
                "method": self.method,
                "endpoint": endpoint,
                "status": self.status,
                "duration_ms": round(elapsed * 1000, 2),
                **self._fields,
            }
            log_info(log, "request", line)
        request_fields.reset(self._token)


class UnexpectedErrors:
    """The last resort: a bug becomes a 500 OperationOutcome, logged with its stack but not its message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        responded = False

        async def watch(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log_unexpected()
            if not responded and scope["type"] == "http":
                await unexpected_error_response()(scope, receive, watch)


def log_unexpected() -> None:
    """Called in an `except` block: the stack goes to the log, the exception's message does not."""
    log.exception("unexpected error while serving a request", extra={"fields": {"event": "error"}})


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _CLIENT_REQUEST_ID.fullmatch(value):
            return str(value.decode())
    return new_request_id(os.urandom(16))


def new_request_id(random: bytes) -> str:
    """`uuid.UUID(bytes=random, version=4).hex`, without building the UUID object (half the cost)."""
    value = int.from_bytes(random, "big")
    value = (value & ~(0xC000 << 48) | 0x8000 << 48) & ~(0xF000 << 64) | 4 << 76
    return f"{value:032x}"


def _endpoint(scope: Scope) -> str:
    """The route template, never the raw path, so metric labels stay few."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    preflight = scope["method"] == "OPTIONS" and any(
        name == b"access-control-request-method" for name, _ in scope["headers"]
    )
    return "cors-preflight" if preflight else "unmatched"
