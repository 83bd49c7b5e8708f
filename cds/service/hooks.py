"""The CDS Hooks call body, validated to the letter of 2.0 while ignoring unknown fields and `extension`.

Validation stops at the envelope: prefetch values stay as the reader left them (JSON text on the
fast path, parsed JSON on the validating one), read later by `cds.fhir.read_prefetch`, because
validating every resource would cost more than evaluating them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    StrictStr,
    ValidationError,
)

from cds.service.errors import ServiceError, invalid_request
from cds.service.urls import UrlRefused, normalise

FHIR_ID = r"^[A-Za-z0-9\-.]{1,64}$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
USER_REFERENCE = r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
FHIR_BASE_URL = rf"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:{_PORT})?(/[^?#\s]*)?$"
"""The schema's description of a base URL `_fhir_base_url` accepts: no credentials, a valid port."""

FhirId = Annotated[StrictStr, Field(pattern=FHIR_ID)]
UserReference = Annotated[StrictStr, Field(pattern=USER_REFERENCE)]


def _bearer(value: str) -> str:
    if value.lower() != "bearer":
        raise ValueError("must be 'Bearer'")
    return value


def _whole_number(value: Any) -> Any:
    """JSON does not tell 300 from 300.0, and JSON Schema counts both as integers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _fhir_base_url(value: str) -> str:
    """Checked as the client would be contacted: credentials and invalid ports are a 400, not a 500."""
    try:
        url = normalise(value)
    except UrlRefused as error:
        raise ValueError(f"must be the absolute http(s) base URL of a FHIR server: it {error}") from None
    if url.query or "?" in value or "#" in value:
        raise ValueError("must be the absolute http(s) base URL of a FHIR server, without query or fragment")
    return value.rstrip("/")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FhirAuthorization(_Lenient):
    """The access token is a SecretStr, so printing or logging the model can never show it."""

    access_token: SecretStr = Field(min_length=1)
    token_type: Annotated[
        StrictStr, AfterValidator(_bearer), Field(json_schema_extra={"pattern": "^[Bb][Ee][Aa][Rr][Ee][Rr]$"})
    ]
    expires_in: Annotated[StrictInt, Field(ge=0, le=2**31 - 1), BeforeValidator(_whole_number)]
    scope: StrictStr
    subject: StrictStr
    patient: FhirId | None = None


class HookRequest(_Lenient):
    hook: StrictStr
    hookInstance: Annotated[StrictStr, Field(pattern=UUID)]
    context: dict[str, Any]
    fhirServer: (
        Annotated[
            StrictStr, AfterValidator(_fhir_base_url), Field(json_schema_extra={"pattern": FHIR_BASE_URL})
        ]
        | None
    ) = None
    fhirAuthorization: FhirAuthorization | None = None
    prefetch: dict[str, Any] | None = None


class PatientViewContext(_Lenient):
    userId: UserReference
    patientId: FhirId
    encounterId: FhirId | None = None


class EncounterStartContext(_Lenient):
    userId: UserReference
    patientId: FhirId
    encounterId: FhirId


HookContext = PatientViewContext | EncounterStartContext
CONTEXTS: dict[str, type[PatientViewContext] | type[EncounterStartContext]] = {
    "patient-view": PatientViewContext,
    "encounter-start": EncounterStartContext,
}


def parse_hook_request(document: Any, service_id: str, service_hook: str) -> tuple[HookRequest, HookContext]:
    """Raises ServiceError 400 naming the field at fault."""
    if not isinstance(document, dict):
        raise ServiceError.single(400, "structure", "the request body must be a JSON object", "body")
    try:
        request = HookRequest.model_validate(document)
    except ValidationError as error:
        raise invalid_request(error) from None
    if request.fhirAuthorization is not None and request.fhirServer is None:
        raise ServiceError.single(
            400, "required", "fhirServer: required when fhirAuthorization is sent", "fhirServer"
        )
    if request.hook != service_hook:
        raise ServiceError.single(
            400,
            "not-supported",
            f"hook: service {service_id} answers the {service_hook!r} hook only",
            "hook",
        )
    try:
        context = CONTEXTS[service_hook].model_validate(request.context)
    except ValidationError as error:
        raise invalid_request(error, prefix="context.") from None
    return request, context
