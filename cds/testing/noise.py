"""Resources that must change nothing: unrelated codes and types, other patients' data, entered-in-error.

Irrelevant candidates are checked against the rule space, so a code added to a value set later is never
offered as "irrelevant".
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from cds.testing.clinical import (
    CLINICAL,
    CONDITION_CATEGORY,
    OBSERVATION_CATEGORY,
    VERIFICATION,
    Chart,
    draw_finding,
    draw_measured,
    draw_medication,
)
from cds.testing.fhir_values import (
    FHIR_IDS,
    UCUM,
    JsonObject,
    chance,
    draw_date_time,
    draw_moment,
    draw_patient_reference,
    integers,
    pick,
)
from cds.testing.space import FINDING_KINDS, MEASURED_KINDS, RuleSpace

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCAL = "http://example.org/fhir/CodeSystem/local-codes"

_OTHER_OBSERVATIONS = (
    ("8867-4", "Heart rate", "/min", 72),
    ("8480-6", "Systolic blood pressure", "mm[Hg]", 128),
    ("29463-7", "Body weight", "kg", 71.5),
    ("8310-5", "Body temperature", "Cel", 36.8),
    ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 96),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 13.9),
)
_OTHER_CONDITIONS = (
    (SNOMED, "38341003", "Hypertension"),
    (SNOMED, "44054006", "Diabetes mellitus type 2"),
    (SNOMED, "195967001", "Asthma"),
    (SNOMED, "55822004", "Hyperlipidemia"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "I10", "Essential (primary) hypertension"),
)
_OTHER_MEDICATIONS = (
    ("860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"),
    ("617310", "Atorvastatin 20 MG Oral Tablet"),
    ("197696", "Levothyroxine Sodium 0.075 MG Oral Tablet"),
)
_FAMILY_NAMES = ("Rivera", "Okafor", "Lindqvist", "Tanaka")
_GENDERS = ("female", "male", "other", "unknown")
_RANDOM_LOINC = st.from_regex(r"[1-9][0-9]{3,5}-[0-9]", fullmatch=True)
_RANDOM_SNOMED = st.from_regex(r"[1-9][0-9]{5,8}", fullmatch=True)


def draw_patient(draw: st.DrawFn, patient_id: str) -> JsonObject:
    born = dt.date(1930, 1, 1) + dt.timedelta(days=draw(integers(0, 28_000)))
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "name": [{"family": pick(draw, _FAMILY_NAMES), "given": ["Alex"]}],
        "gender": pick(draw, _GENDERS),
        "birthDate": born.isoformat(),
    }


def _unrecognised(
    draw: st.DrawFn, space: RuleSpace, system: str, codes: st.SearchStrategy[str]
) -> str | None:
    code = draw(codes)
    return None if space.recognises(system, code) else code


def _other_observation(draw: st.DrawFn, chart: Chart) -> JsonObject:
    space = chart.space
    known = [o for o in _OTHER_OBSERVATIONS if not space.recognises(LOINC, o[0])]
    code, display, unit, value = pick(draw, known)
    coding: JsonObject = {"system": LOINC, "code": code, "display": display}
    variant = pick(draw, ["known", "random", "foreign system"])
    if variant == "random" and (random := _unrecognised(draw, space, LOINC, _RANDOM_LOINC)) is not None:
        coding = {"system": LOINC, "code": random}
    elif variant == "foreign system":
        rule_code = pick(draw, [c for f in space.findings for c in f.codes])
        coding = {"system": LOCAL, "code": rule_code.code}
        if not space.mentions(rule_code.display):  # the rules read an Observation's words too
            coding["display"] = rule_code.display
    return {
        "resourceType": "Observation",
        "id": draw(FHIR_IDS),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [coding]},
        "subject": draw_patient_reference(draw, chart.patient_id),
        "effectiveDateTime": draw_date_time(draw, draw_moment(draw, chart.now, 0, 400)),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def _other_condition(draw: st.DrawFn, chart: Chart) -> JsonObject:
    space = chart.space
    known = [c for c in _OTHER_CONDITIONS if not space.recognises(c[0], c[1]) and not space.mentions(c[2])]
    system, code, display = pick(draw, known)
    coding: JsonObject = {"system": system, "code": code, "display": display}
    if chance(draw) and (random := _unrecognised(draw, space, SNOMED, _RANDOM_SNOMED)) is not None:
        coding = {"system": SNOMED, "code": random}
    return {
        "resourceType": "Condition",
        "id": draw(FHIR_IDS),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {"coding": [coding], "text": display},
        "subject": draw_patient_reference(draw, chart.patient_id),
        "onsetDateTime": draw_date_time(draw, draw_moment(draw, chart.now, 0, 4000)),
    }


def _other_medication(draw: st.DrawFn, chart: Chart) -> JsonObject:
    space = chart.space
    known = [m for m in _OTHER_MEDICATIONS if not space.recognises(RXNORM, m[0]) and not space.mentions(m[1])]
    code, display = pick(draw, known)
    return {
        "resourceType": "MedicationRequest",
        "id": draw(FHIR_IDS),
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}], "text": display},
        "subject": draw_patient_reference(draw, chart.patient_id),
        "authoredOn": draw_date_time(draw, draw_moment(draw, chart.now, 0, 400)),
    }


def _other_type(draw: st.DrawFn, chart: Chart) -> JsonObject:
    subject = draw_patient_reference(draw, chart.patient_id)
    when = draw_date_time(draw, draw_moment(draw, chart.now, 0, 400))
    options: list[JsonObject] = [
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": subject,
            "period": {"start": when},
        },
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": "73761001", "display": "Colonoscopy"}]},
            "subject": subject,
            "performedDateTime": when,
        },
        {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}]},
            "patient": subject,
            "occurrenceDateTime": when,
        },
        {
            "resourceType": "AllergyIntolerance",
            "code": {"coding": [{"system": SNOMED, "code": "91936005", "display": "Allergy to penicillin"}]},
            "patient": subject,
        },
        {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "code": {
                "coding": [{"system": LOINC, "code": "24323-8", "display": "Comprehensive metabolic panel"}]
            },
            "subject": subject,
            "effectiveDateTime": when,
        },
        {"resourceType": "Practitioner", "name": [{"family": "Moreau", "given": ["Claire"]}]},
        {"resourceType": "Organization", "name": "Riverside Clinic"},
    ]
    return {**pick(draw, options), "id": draw(FHIR_IDS)}


def draw_irrelevant(draw: st.DrawFn, chart: Chart) -> JsonObject:
    """One of the patient's resources the rules never look at: another code (or a rule's code in a
    foreign system), another drug, another resource type."""
    drawer = pick(draw, [_other_observation, _other_condition, _other_medication, _other_type])
    return drawer(draw, chart)


def draw_relevant(draw: st.DrawFn, chart: Chart, *, current: bool) -> JsonObject:
    """Any resource the rules look at, of any kind."""
    kind = draw(integers(0, len(FINDING_KINDS) + len(MEASURED_KINDS)))
    if kind < len(FINDING_KINDS):
        return draw_finding(draw, chart, FINDING_KINDS[kind], current=current)
    if kind - len(FINDING_KINDS) < len(MEASURED_KINDS):
        return draw_measured(draw, chart, MEASURED_KINDS[kind - len(FINDING_KINDS)], current=current)
    return draw_medication(draw, chart, current=current)


def draw_other_patients(draw: st.DrawFn, chart: Chart) -> JsonObject:
    """What would count if it were this patient's, about `chart.patient_id` (someone else), or their
    Patient resource."""
    if draw(integers(0, 4)) == 0:
        return draw_patient(draw, chart.patient_id)
    return draw_relevant(draw, chart, current=True)


def entered_in_error(resource: JsonObject) -> JsonObject:
    """The same resource marked entered-in-error (a Condition then carries no clinicalStatus: con-5)."""
    marked = dict(resource)
    if marked["resourceType"] == "Condition":
        marked.pop("clinicalStatus", None)
        marked["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": "entered-in-error"}]}
    else:
        marked["status"] = "entered-in-error"
    return marked


def draw_entered_in_error(draw: st.DrawFn, chart: Chart) -> JsonObject:
    """A resource that would count as current evidence had it not been entered in error."""
    return entered_in_error(draw_relevant(draw, chart, current=True))


def draw_benign_contributor(draw: st.DrawFn, chart: Chart) -> JsonObject:
    """A current resource the rules may read as a benign contributor: a contributing diagnosis, a lab or
    assessment result, an active medication. Never a symptom, a red flag or a known ALS."""
    kind = draw(integers(0, len(MEASURED_KINDS) + 1))
    if kind < len(MEASURED_KINDS):
        return draw_measured(draw, chart, MEASURED_KINDS[kind], current=True)
    if kind == len(MEASURED_KINDS):
        return draw_medication(draw, chart, current=True)
    return draw_finding(draw, chart, "problem", current=True, group="contributor")
