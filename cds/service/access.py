"""Auth by default: every request needs a valid JWT unless its path is on the one list of public paths.

The check sits in front of the router rather than in each handler, so a new endpoint is protected
without its author remembering to ask (before, each handler called `authorize` itself). It runs inside
the CORS middleware, so a browser can read the 401, and CORS preflights are answered before it. The
verified caller is left in the request state for the handlers (`caller_of`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cds.service.auth import Caller
from cds.service.errors import ServiceError, outcome_response
from cds.service.state import ServiceState

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
"""Liveness, readiness, metrics and the API description: what load balancers and scrapers call."""
_CALLER = "caller"


class RequireCaller:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _path(scope) in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state.service
        assert isinstance(state, ServiceState)
        try:
            caller = await state.authorize(Request(scope))
        except ServiceError as refusal:
            await outcome_response(refusal.status, refusal.issues, refusal.headers)(scope, receive, send)
            return
        scope.setdefault("state", {})[_CALLER] = caller
        await self.app(scope, receive, send)


def caller_of(request: Request) -> Caller | None:
    """The verified caller of this request; None when auth is off."""
    caller = getattr(request.state, _CALLER, None)
    assert caller is None or isinstance(caller, Caller)
    return caller


def _path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
