"""A compact patient description made into the FHIR R4 an EHR would send.

Each record line becomes one resource with a readable id (`weakness-3` for line 3), so a card's evidence
and the explanation point back to the line of the case that produced it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from cds.frozen import Frozen
from cds.workbench.lexicon import Coding
from cds.workbench.phrases import RecordItem

JsonObject = dict[str, Any]
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OTHER_PATIENT = "other-patient"
_CATEGORY = {"lab": "laboratory", "assessment": "survey"}


class PatientSpec(Frozen):
    """Who the case is about; age counts back from the case's `now`."""

    id: str = Field(default="test-patient", pattern=r"^[A-Za-z0-9\-.]{1,64}$")
    gender: Literal["female", "male", "other", "unknown"] | None = None
    age: int | None = Field(default=None, ge=0, le=130)


def patient_resource(patient: PatientSpec, now: dt.datetime) -> JsonObject:
    resource: JsonObject = {"resourceType": "Patient", "id": patient.id}
    if patient.gender:
        resource["gender"] = patient.gender
    if patient.age is not None:
        resource["birthDate"] = _years_before(now.date(), patient.age).isoformat()
    return resource


def build_resource(item: RecordItem, *, line: int, patient_id: str, now: dt.datetime) -> JsonObject:
    """The resource for record line `line` (1-based); `now` anchors "5 days ago"."""
    subject = {"reference": f"Patient/{OTHER_PATIENT if item.other_patient else patient_id}"}
    resource_id = f"{item.term.concept.replace('_', '-')}-{line}"
    moment = item.when.moment(now).isoformat()
    if item.resource_type == "Condition":
        return _condition(item, resource_id, subject, moment)
    if item.resource_type == "Observation":
        return _observation(item, resource_id, subject, moment)
    return _medication_request(item, resource_id, subject, moment)


def build_bundle(
    items: Sequence[RecordItem | JsonObject], *, patient: PatientSpec, now: dt.datetime
) -> JsonObject:
    """A collection Bundle: the patient first, then one entry per record line in order.

    A record line given as raw FHIR (a dict) is kept as written, given an id and the patient as subject
    when it has neither.
    """
    resources = [patient_resource(patient, now)]
    for line, item in enumerate(items, start=1):
        if isinstance(item, RecordItem):
            resources.append(build_resource(item, line=line, patient_id=patient.id, now=now))
        else:
            resources.append(_raw(item, line, patient.id))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }


def _raw(resource: JsonObject, line: int, patient_id: str) -> JsonObject:
    filled = {"id": f"{str(resource.get('resourceType', 'resource')).lower()}-{line}", **resource}
    if resource.get("resourceType") != "Patient" and "subject" not in resource and "patient" not in resource:
        filled["subject"] = {"reference": f"Patient/{patient_id}"}
    return filled


def _concept(coding: Coding | None, text: str) -> JsonObject:
    if coding is None:
        return {"text": text}
    return {
        "coding": [{"system": coding.system, "code": coding.code, "display": coding.display}],
        "text": text,
    }


def _status(system: str, code: str) -> JsonObject:
    return {"coding": [{"system": system, "code": code}]}


def _condition(item: RecordItem, resource_id: str, subject: JsonObject, moment: str) -> JsonObject:
    term = item.term
    resource: JsonObject = {"resourceType": "Condition", "id": resource_id}
    if item.verification != "entered-in-error":
        resource["clinicalStatus"] = _status(CLINICAL, item.clinical or "active")
    resource["verificationStatus"] = _status(VERIFICATION, item.verification or "confirmed")
    resource["code"] = _concept(term.coding, term.coding.display if term.coding else term.label)
    resource["subject"] = subject
    if item.when.field != "recorded":
        resource["onsetDateTime"] = moment
    resource["recordedDate"] = moment
    if item.severity:
        resource["severity"] = {"text": item.severity}
    if item.body_site:
        resource["bodySite"] = [{"text": item.body_site}]
    return resource


def _observation(item: RecordItem, resource_id: str, subject: JsonObject, moment: str) -> JsonObject:
    term = item.term
    resource: JsonObject = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "entered-in-error" if item.verification == "entered-in-error" else "final",
        "category": [{"coding": [{"system": CATEGORY, "code": _CATEGORY.get(term.kind, "exam")}]}],
        "code": _concept(term.coding, term.coding.display if term.coding else term.label),
        "subject": subject,
        "effectiveDateTime": moment,
    }
    if item.value is not None:
        resource["valueQuantity"] = _quantity(item.value, item.unit, item.unit_only)
    elif item.frequency is not None:
        resource["valueQuantity"] = {"value": item.frequency}
    elif item.severity:
        resource["valueCodeableConcept"] = {"text": item.severity}
    if item.interpretation:
        resource["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": item.interpretation}]}]
    if item.reference_range:
        unit = item.reference_range.unit or item.unit
        resource["referenceRange"] = [
            {
                "low": _quantity(item.reference_range.low, unit, item.unit_only),
                "high": _quantity(item.reference_range.high, unit, item.unit_only),
            }
        ]
    if item.body_site:
        resource["bodySite"] = {"text": item.body_site}
    return resource


def _medication_request(item: RecordItem, resource_id: str, subject: JsonObject, moment: str) -> JsonObject:
    status = "entered-in-error" if item.verification == "entered-in-error" else item.status or "active"
    return {
        "resourceType": "MedicationRequest",
        "id": resource_id,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": _concept(item.term.coding, item.term.concept.capitalize()),
        "subject": subject,
        "authoredOn": moment,
    }


def _quantity(value: float, unit: str | None, unit_only: bool) -> JsonObject:
    number: float | int = int(value) if value.is_integer() else value
    if unit is None:
        return {"value": number}
    if unit_only:
        return {"value": number, "unit": unit}
    return {"value": number, "unit": unit, "system": UCUM, "code": unit}


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
