"""GET /openapi.json describes the endpoints that really exist, with the bodies they really take."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from cds.service.discovery import SERVICE_HOOKS


def _document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_every_route_of_the_app_is_described(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, Starlette)
    routes = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {
        (_as_template(path), method) for path, item in _document(client)["paths"].items() for method in item
    }
    assert described == routes


def _as_template(path: str) -> str:
    """Each service's call is documented on its own path; the app routes them all through one template."""
    for service in SERVICE_HOOKS:
        if path == f"/cds-services/{service}":
            return "/cds-services/{service_id}"
    return path


def test_each_service_documents_the_body_of_its_own_hook(client: TestClient) -> None:
    paths = _document(client)["paths"]
    bodies = {
        service: paths[f"/cds-services/{service}"]["post"]["requestBody"]["content"]["application/json"]
        for service in SERVICE_HOOKS
    }
    assert bodies == {
        "spasm-patient-view": {"schema": {"$ref": "#/components/schemas/PatientViewRequest"}},
        "spasm-encounter-start": {"schema": {"$ref": "#/components/schemas/EncounterStartRequest"}},
    }


def test_the_call_body_is_the_hook_request_schema(client: TestClient) -> None:
    document = _document(client)
    body = document["paths"]["/cds-services/spasm-patient-view"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PatientViewRequest"
    }
    assert set(document["components"]["schemas"]["PatientViewRequest"]["required"]) == {
        "hook",
        "hookInstance",
        "context",
    }


def test_every_referenced_schema_is_defined(client: TestClient) -> None:
    document = _document(client)
    text = str(document)
    defined = set(document["components"]["schemas"])
    referenced = {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}
    assert referenced <= defined
