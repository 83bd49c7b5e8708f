"""GET /openapi.json, generated from the same pydantic models that parse requests and build responses.

Each service has its own call path, because what the service checks depends on it: the hook it
answers and that hook's context (an empty `context` is refused, so the schema must not allow it).
"""

from __future__ import annotations

import copy
from importlib.metadata import version
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from cds.cards import CdsResponse
from cds.service.discovery import SERVICE_HOOKS, Discovery
from cds.service.endpoints import Health
from cds.service.errors import OperationOutcome
from cds.service.feedback import FeedbackRequest
from cds.service.hooks import CONTEXTS, EncounterStartContext, HookRequest, PatientViewContext

_REF = "#/components/schemas/{model}"
_MODELS: tuple[tuple[type[BaseModel], JsonSchemaMode], ...] = (
    (HookRequest, "validation"),
    (PatientViewContext, "validation"),
    (EncounterStartContext, "validation"),
    (FeedbackRequest, "validation"),
    (CdsResponse, "serialization"),
    (Discovery, "serialization"),
    (Health, "serialization"),
    (OperationOutcome, "serialization"),
)
_ERRORS = {
    "400": "Malformed JSON, wrong type, missing field, unknown hook, non-FHIR prefetch; names the field.",
    "401": "No valid JWT from a trusted issuer (the reason is only logged).",
    "404": "Unknown service id.",
    "412": "Required data (patient, conditions, observations) is neither in prefetch nor on fhirServer.",
    "413": "Body over the size limit.",
    "502": "The client's FHIR server failed (error status, not FHIR, paging without end).",
    "504": "The client's FHIR server did not answer in time.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(name: str, media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": _ref(name)}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {
        code: {"description": _ERRORS[code], **_json("OperationOutcome", "application/fhir+json")}
        for code in codes
    }


def _request_name(hook: str) -> str:
    return "".join(part.title() for part in hook.split("-")) + "Request"


def _hook_requests(schemas: dict[str, Any]) -> dict[str, Any]:
    """A request schema per hook: HookRequest with that hook and its context, as the checks want them."""
    requests = {}
    for hook, context in CONTEXTS.items():
        schema = copy.deepcopy(schemas["HookRequest"])
        schema["title"] = _request_name(hook)
        schema["properties"]["hook"] = {"const": hook, "type": "string"}
        schema["properties"]["context"] = _ref(context.__name__)
        schema["if"] = {
            "properties": {"fhirAuthorization": {"type": "object"}},
            "required": ["fhirAuthorization"],
        }
        schema["then"] = {"properties": {"fhirServer": {"type": "string"}}, "required": ["fhirServer"]}
        requests[_request_name(hook)] = schema
    return requests


def _call_path(service_id: str, hook: str, secured: list[dict[str, list[str]]]) -> dict[str, Any]:
    return {
        "post": {
            "summary": f"Call {service_id} ({hook}): cards for the patient in context",
            "security": secured,
            "requestBody": {"required": True, **_json(_request_name(hook))},
            "responses": {
                "200": {"description": "Cards (an empty list means no guidance)", **_json("CdsResponse")},
                **_errors("400", "401", "412", "413", "502", "504"),
            },
        }
    }


def openapi_json() -> bytes:
    _, schemas = models_json_schema(_MODELS, ref_template=_REF)
    definitions = {**schemas["$defs"], **_hook_requests(schemas["$defs"])}
    service_id = {
        "name": "service_id",
        "in": "path",
        "required": True,
        "schema": {"enum": list(SERVICE_HOOKS)},
    }
    secured: list[dict[str, list[str]]] = [{"cdsHooksJwt": []}]
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "spasm-cds: CDS Hooks 2.0 service for muscle spasms",
            "version": version("spasm-cds"),
            "description": "CDS Hooks 2.0 (cds-hooks.hl7.org/2.0). Unknown fields and extension are ignored.",
        },
        "paths": {
            "/cds-services": {
                "get": {
                    "summary": "Discovery: the services, their hooks and prefetch templates",
                    "security": secured,
                    "responses": {
                        "200": {"description": "The services", **_json("Discovery")},
                        **_errors("401"),
                    },
                }
            },
            **{
                f"/cds-services/{service}": _call_path(service, hook, secured)
                for service, hook in SERVICE_HOOKS.items()
            },
            "/cds-services/{service_id}/feedback": {
                "post": {
                    "summary": "Feedback on cards: accepted or overridden, stored before the 200",
                    "security": secured,
                    "parameters": [service_id],
                    "requestBody": {"required": True, **_json("FeedbackRequest")},
                    "responses": {
                        "200": {"description": "Stored (empty body)"},
                        **_errors("400", "401", "404", "413"),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness and the rules version in use",
                    "responses": {"200": {"description": "Alive", **_json("Health")}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: rules loaded and the database reachable",
                    "responses": {
                        "200": {"description": "Ready", "content": {"application/json": {}}},
                        "503": {"description": "Database unreachable", "content": {"application/json": {}}},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {"description": "Text exposition format", "content": {"text/plain": {}}}
                    },
                }
            },
            "/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}
            },
        },
        "components": {
            "schemas": definitions,
            "securitySchemes": {"cdsHooksJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    return orjson.dumps(document)
