"""Each hook's `context`, as the CDS Hooks library defines it, for one patient record.

patient-view: `userId`, `patientId`, optional `encounterId`. order-select: also `selections` (references
into `draftOrders`) and `draftOrders`. order-sign: `draftOrders`. encounter-start and
encounter-discharge: `encounterId` required. A hook the kit does not know gets `userId` and `patientId`,
which every patient-facing hook has. Draft orders are drug and lab orders drawn from the rules' own
vocabulary, so a service that reads them sees something it may recognise.
"""

from __future__ import annotations

from hypothesis import strategies as st

from cds.testing.fhir_values import FHIR_IDS, JsonObject, chance, draw_coding, integers, pick
from cds.testing.records import PatientRecord, as_bundle
from cds.testing.space import RuleSpace

ENCOUNTER_HOOKS = ("encounter-start", "encounter-discharge")
ORDER_HOOKS = ("order-select", "order-sign")
KNOWN_HOOKS = ("patient-view", *ORDER_HOOKS, *ENCOUNTER_HOOKS)
USER_TYPES = ("Practitioner", "PractitionerRole")
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def _draft_medication(draw: st.DrawFn, space: RuleSpace, patient_id: str) -> JsonObject:
    ingredient = pick(draw, space.ingredients)
    concept: JsonObject = {"text": f"{ingredient.name.capitalize()} 25 MG Oral Tablet"}
    if ingredient.rxnorm:
        concept["coding"] = [draw_coding(draw, pick(draw, ingredient.rxnorm))]
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def _draft_lab_order(draw: st.DrawFn, space: RuleSpace, patient_id: str) -> JsonObject:
    lab = pick(draw, space.measured_of("lab"))
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [draw_coding(draw, pick(draw, lab.codes))]},
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def draw_draft_orders(draw: st.DrawFn, space: RuleSpace, patient_id: str) -> list[JsonObject]:
    """One to three draft orders with unique ids."""
    orders = []
    for index in range(draw(integers(1, 3))):
        maker = _draft_medication if chance(draw) else _draft_lab_order
        orders.append({**maker(draw, space, patient_id), "id": f"draft-{index}"})
    return orders


def draw_context(draw: st.DrawFn, hook: str, record: PatientRecord, space: RuleSpace) -> JsonObject:
    """The hook's context for `record`'s patient: required fields always, optional ones sometimes."""
    context: JsonObject = {
        "userId": f"{pick(draw, USER_TYPES)}/{draw(FHIR_IDS)}",
        "patientId": record.patient_id,
    }
    if hook in ENCOUNTER_HOOKS or chance(draw):
        context["encounterId"] = draw(FHIR_IDS)
    if hook in ORDER_HOOKS:
        orders = draw_draft_orders(draw, space, record.patient_id)
        context["draftOrders"] = as_bundle(orders, "collection")
        if hook == "order-select":
            chosen = orders[: draw(integers(1, len(orders)))]
            context["selections"] = [f"{order['resourceType']}/{order['id']}" for order in chosen]
    return context


def context_resources(context: JsonObject) -> list[JsonObject]:
    """The resources the context names besides the patient (the encounter, the user), as the EHR holds
    them, so a service's `Encounter/{{context.encounterId}}` or `Practitioner/{{userPractitionerId}}`
    read finds them."""
    found: list[JsonObject] = []
    if isinstance(context.get("encounterId"), str):
        found.append(
            {
                "resourceType": "Encounter",
                "id": context["encounterId"],
                "status": "in-progress",
                "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
                "subject": {"reference": f"Patient/{context['patientId']}"},
            }
        )
    user_type, _, user_id = str(context.get("userId", "")).partition("/")
    if user_type in USER_TYPES and user_id:
        found.append({"resourceType": user_type, "id": user_id})
    return found
