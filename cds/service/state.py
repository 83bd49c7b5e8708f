"""What every handler needs, built once per worker process when it starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from cds.service.auth import Authenticator, Caller, Unauthorized
from cds.service.errors import Issue, ServiceError
from cds.service.logging import annotate
from cds.service.prefetch import PrefetchResolver
from cds.service.reload import RulesHolder
from cds.service.settings import Settings
from cds.store import Store

if TYPE_CHECKING:
    from cds.shadow.runner import Shadow


def unauthorized() -> ServiceError:
    return ServiceError(
        401, [Issue(code="login", diagnostics="unauthorized")], [("WWW-Authenticate", "Bearer")]
    )


@dataclass(frozen=True)
class ServiceState:
    settings: Settings
    holder: RulesHolder
    store: Store
    resolver: PrefetchResolver
    authenticator: Authenticator | None
    """None when auth is off (only possible on loopback)."""
    shadow: Shadow | None = None
    """None unless candidate rules are shadowed (`--shadow-rules`)."""

    async def authorize(self, request: Request) -> Caller | None:
        """The verified caller (None when auth is off); raises the 401 ServiceError, which says nothing
        about why: the reason is in the log."""
        if self.authenticator is None:
            return None
        path = request.scope["path"]
        root = request.scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        audiences = [base + path for base in self.settings.base_urls]
        try:
            caller = await self.authenticator.authenticate(request.headers.get("authorization"), audiences)
        except Unauthorized:
            raise unauthorized() from None
        annotate(iss=caller.iss, tenant=caller.tenant, jti=caller.jti)
        return caller


def service_state(request: Request) -> ServiceState:
    state = request.app.state.service
    assert isinstance(state, ServiceState)
    return state
