"""Auth by default: one list of public paths; every other route answers 401 without a token (issue 14)."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey
from service_helpers import BASE, ISSUER, MakeClient, bearer, claims, public_jwks, sign
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from cds.service.access import PUBLIC_PATHS
from cds.service.discovery import SERVICE_HOOKS

SERVICE = next(iter(SERVICE_HOOKS))


@pytest.fixture
def secured(make_client: MakeClient, es384_key: ECKey) -> TestClient:
    return make_client(auth="jwt", trusted_issuers=[{"iss": ISSUER, "jwks": public_jwks(es384_key)}])


def _routes(client: TestClient) -> list[tuple[str, str]]:
    app = client.app
    assert isinstance(app, Starlette)
    return [
        (route.path, method)
        for route in app.routes
        if isinstance(route, Route)
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]


def _url(path: str) -> str:
    return path.replace("{service_id}", SERVICE)


def test_every_route_but_the_public_paths_answers_401_without_a_token(secured: TestClient) -> None:
    statuses = {
        (path, method): secured.request(method, _url(path)).status_code
        for path, method in _routes(secured)
        if path not in PUBLIC_PATHS
    }
    assert len(statuses) >= 3
    assert set(statuses.values()) == {401}, statuses


def test_the_public_paths_are_routes_that_need_no_token(secured: TestClient) -> None:
    paths = {path for path, _ in _routes(secured)}
    assert paths >= PUBLIC_PATHS
    assert all(secured.get(path).status_code != 401 for path in PUBLIC_PATHS)


def test_a_route_whose_handler_never_mentions_auth_is_still_protected(
    secured: TestClient, es384_key: ECKey
) -> None:
    async def unguarded(_: Request) -> Response:
        return PlainTextResponse("no auth code here")

    app = secured.app
    assert isinstance(app, Starlette)
    app.router.routes.append(Route("/added-later", unguarded, methods=["GET"]))
    token = sign(es384_key, claims(BASE + "/added-later"))
    assert secured.get("/added-later").status_code == 401
    assert secured.get("/added-later", headers=bearer(token)).status_code == 200
