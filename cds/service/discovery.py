"""The discovery document (GET /cds-services): one service per hook, both running the same rules.

Two ids rather than one id listed twice, because several clients (the sandbox among them) key services
by id. The prefetch templates are `cds.service.templates`, the one home of the keys and queries.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from pydantic import BaseModel, ConfigDict

from cds.service.templates import OPTIONAL_KEYS, REQUIRED_KEYS


class ServiceDescription(BaseModel):
    model_config = ConfigDict(frozen=True)

    hook: str
    id: str
    title: str
    description: str
    prefetch: dict[str, str]
    usageRequirements: str


class Discovery(BaseModel):
    model_config = ConfigDict(frozen=True)

    services: tuple[ServiceDescription, ...]


SERVICE_HOOKS: Mapping[str, str] = {
    "spasm-patient-view": "patient-view",
    "spasm-encounter-start": "encounter-start",
}
TITLE = "Muscle spasm: benign or concerning"
DESCRIPTION = (
    "Reviews a patient's muscle spasms, cramps and twitches against their conditions, observations, "
    "labs and medications: warns about red flags (difficulty swallowing, speaking or breathing; weakness, "
    "wasting; persistent, worsening or widespread symptoms) and otherwise names likely benign contributors "
    "and the work-up to consider. Every card shows the evidence it rests on and the rule behind it."
)
USAGE = (
    "Send the prefetch keys listed, or fhirServer with fhirAuthorization (read access to Patient, "
    f"Condition, Observation, MedicationRequest and MedicationStatement) so the service can query what is "
    f"missing. Required: {', '.join(REQUIRED_KEYS)} (412 when they cannot be had); optional: "
    f"{', '.join(OPTIONAL_KEYS)}. Calls carry a JWT (ES384 or RS384) from an issuer the service trusts."
)


def discovery_json(templates: Mapping[str, str]) -> bytes:
    services = tuple(
        ServiceDescription(
            hook=hook,
            id=service_id,
            title=TITLE,
            description=DESCRIPTION,
            prefetch=dict(templates),
            usageRequirements=USAGE,
        )
        for service_id, hook in SERVICE_HOOKS.items()
    )
    return orjson.dumps(Discovery(services=services).model_dump(mode="json"))
