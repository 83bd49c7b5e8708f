"""FHIR resources inside CDS Hooks bodies, validated with fhir.resources' R4B models.

A card's action carries a whole resource the EHR will store: a ServiceRequest without `status` is as
broken as a card without `summary`, and only a FHIR validator knows that. Each problem cites the FHIR
element it breaks (`[FHIR R4 ServiceRequest.status]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from cds.fhir.models import get_fhir_model_class
from cds.fielderrors import message_of
from cds.testing.jsonrules import Findings, join

FHIR = "FHIR R4"


def check_resource(resource: Mapping[str, Any], path: str, found: Findings) -> None:
    """Every problem the R4B model finds in `resource`, at its path in the body."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        found.add(join(path, "resourceType"), f"{resource_type!r} is not a FHIR resource type", FHIR)
        return
    try:
        model.model_validate(dict(resource))
    except ValidationError as error:
        for detail in error.errors(include_url=False, include_input=False):
            steps = [step for step in detail["loc"] if step != "root"]
            where = path
            for step in steps:
                where = f"{where}[{step}]" if isinstance(step, int) else join(where, str(step))
            element = ".".join([resource_type, *(str(s) for s in steps if not isinstance(s, int))])
            found.add(where, message_of(detail), f"{FHIR} {element}")
    except (AttributeError, KeyError, TypeError) as error:
        # fhir.resources trusts the shape of contained resources and _element extensions
        found.add(path, f"cannot be validated ({type(error).__name__}: {error})", f"{FHIR} {resource_type}")
