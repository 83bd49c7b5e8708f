"""Suggested orders as draft FHIR R4 ServiceRequests, ready for the EHR to create on acceptance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cds.rulebook.files import Order


def service_request(order: Order, patient_id: str, reasons: Sequence[str]) -> dict[str, Any]:
    code: dict[str, Any] = {"text": order.text or order.description}
    if order.code is not None:
        code["coding"] = [
            {"system": order.code.system, "code": order.code.code, "display": order.code.display}
        ]
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": code,
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if order.priority:
        resource["priority"] = order.priority
    references = [r for r in dict.fromkeys(reasons) if r.split("/")[0] in ("Condition", "Observation")]
    if references:
        resource["reasonReference"] = [{"reference": r} for r in references]
    return resource
