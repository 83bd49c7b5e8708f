"""The direct route for hook calls: `POST /cds-services/{id}` of a known service, without an Origin header.

A hook call is what the service answers most, and at 10 resources Starlette's layers around it (error
middleware, CORS, the last-resort guard, auth, exception middleware, router, request wrapper and the
response object), one coroutine and a `send` wrapper each, cost more than reading the body. This route
runs in front of them and does the same work in one frame per concern: the request id, metrics and
access log (`Observation`), auth (`ServiceState.authorize`), the endpoint's `answer_call`, the error
answers (`EXCEPTION_HANDLERS`, the last resort for a bug) and the two response messages, with the `Vary:
Origin` the CORS middleware adds, then what the answer leaves behind (`Answer.finish`). Anything else
takes the routed app: a browser's call (Origin header: CORS), an app mounted under a root path, other
methods, paths and unknown service ids (their 404 and 405 come from the router and the endpoint).
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cds.service.discovery import SERVICE_HOOKS
from cds.service.endpoints import JSON, answer_call
from cds.service.errors import handler_for, unexpected_error_response
from cds.service.middleware import Observation, log_unexpected
from cds.service.state import service_state

ENDPOINT = "/cds-services/{service_id}"
"""The route template, the metric and log label of a hook call whichever path answers it."""
_PREFIX = "/cds-services/"
_ORIGIN = b"origin"
_CONTENT_TYPE = (b"content-type", JSON.encode("latin-1"))
_VARY = (b"vary", b"Origin")
"""What the CORS middleware adds to every answer to a request without an allowed Origin, none included."""


class HookCalls:
    """In front of every layer Starlette builds (`ServiceApp`), its own last resort included: the direct
    route answers every error itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_direct(scope):
            await self.app(scope, receive, send)
            return
        observation = Observation(scope)
        try:
            await answer_directly(scope, receive, send, observation)
        finally:
            observation.end(ENDPOINT)


def is_direct(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return False
    path: str = scope["path"]
    if not path.startswith(_PREFIX) or path[len(_PREFIX) :] not in SERVICE_HOOKS:
        return False
    return all(name != _ORIGIN for name, _ in scope["headers"])


async def answer_directly(scope: Scope, receive: Receive, send: Send, observation: Observation) -> None:
    request = Request(scope, receive)
    scope["path_params"] = {"service_id": scope["path"][len(_PREFIX) :]}
    state = service_state(request)
    try:
        answer = await answer_call(state, await state.authorize(request), request)
    except Exception as error:
        handler = handler_for(error)
        if handler is None:
            log_unexpected()
            response = unexpected_error_response()
        else:
            response = await handler(request, error)
        response.raw_headers += (_VARY, observation.header)
        observation.status = response.status_code
        await response(scope, receive, send)
        observation.finished = time.perf_counter()
        return
    try:
        length = (b"content-length", str(len(answer.body)).encode("latin-1"))
        headers = [length, _CONTENT_TYPE, _VARY, observation.header]
        observation.status = 200
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        observation.finished = time.perf_counter()
    finally:
        await answer.finish()
