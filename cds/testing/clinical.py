"""Resources the rules look at: symptoms, red flags, problems, labs, assessments and medications.

Codes come from the rules' own value sets (`RuleSpace`). With `current=True` a helper only yields
resources that must count as current evidence (right status, dated inside its window, usable value);
otherwise it also yields the ones that must be set aside (ended, refuted, out of window, future, unusable
unit, no value, no date), as a real chart holds both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import strategies as st

from cds.testing.fhir_values import (
    FHIR_IDS,
    UCUM,
    JsonObject,
    chance,
    draw_codeable_concept,
    draw_coding,
    draw_date_time,
    draw_instant,
    draw_moment,
    draw_patient_reference,
    draw_quantity,
    draw_when,
    integers,
    pick,
)
from cds.testing.space import FindingKind, MeasuredConcept, MeasuredKind, RuleSpace

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

CURRENT_CLINICAL = ("active", "recurrence", "relapse")
ENDED_CLINICAL = ("inactive", "remission", "resolved")
CURRENT_VERIFICATION = ("confirmed", "provisional", "differential", "unconfirmed")
CURRENT_OBSERVATION = ("final", "amended", "corrected", "preliminary", "registered")
INTERPRETATION_CODES = ("L", "LL", "N", "H", "HH", "A")
MEDICATION_STATUSES = {
    "MedicationRequest": ("active", "on-hold", "cancelled", "completed", "stopped", "draft", "unknown"),
    "MedicationStatement": ("active", "completed", "intended", "stopped", "on-hold", "unknown", "not-taken"),
}
WINDOW = {
    "symptom": "symptom_window_days",
    "red_flag": "red_flag_window_days",
    "problem": "symptom_window_days",
    "lab": "lab_lookback_days",
    "assessment": "assessment_lookback_days",
}
"""The parameter whose window decides whether an Observation of each kind is current."""
HISTORY_DAYS = 800
MEDICATION_DAYS = 400
"""How far back an active prescription may date (the rules put no window on medications)."""
CONDITION_SPANS = ((0, HISTORY_DAYS), (-5, -1))
"""A Condition counts while active, however old: its onset is in the past, or (set aside) in the future."""
DATE_ELEMENTS = ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
DEFAULT_RANGE = (0.5, 10.0)
UNKNOWN_SITES = ("skin", "unspecified site", "whole body")
UNKNOWN_UNITS = ("mg", "%", "U/L")
NEAR_STEPS = (0.0, -0.01, 0.01, -0.05, 0.05, -0.1, 0.1)
"""How far from a threshold a value drawn near it lies, in the canonical unit."""


@dataclass(frozen=True)
class Chart:
    """Whose chart a resource goes into, evaluated when, under which rules."""

    now: dt.datetime
    patient_id: str
    space: RuleSpace


def _status(system: str, code: str) -> JsonObject:
    return {"coding": [{"system": system, "code": code}]}


def _observation_dates(draw: st.DrawFn, moment: dt.datetime, dated: bool) -> JsonObject:
    """When it was observed, in any of the elements the product reads it from (or, unless `dated`, none)."""
    shape = pick(draw, DATE_ELEMENTS if dated else (*DATE_ELEMENTS, "none"))
    if shape == "effectiveDateTime":
        return {shape: draw_date_time(draw, moment)}
    if shape == "effectivePeriod":
        return {shape: {"start": draw_date_time(draw, moment)}}
    if shape == "none":
        return {}
    return {shape: draw_instant(draw, moment)}


def draw_body_site(draw: st.DrawFn, space: RuleSpace) -> JsonObject:
    """A body site in words (`Left thigh`), from any region of the rules or from none of them."""
    word = pick(draw, space.body_words if chance(draw) else UNKNOWN_SITES)
    return {"text": f"{pick(draw, ['', 'left ', 'right '])}{word}".capitalize()}


def draw_severity(draw: st.DrawFn, space: RuleSpace) -> JsonObject:
    level = pick(draw, space.severities)
    if level.codes and chance(draw):
        return draw_codeable_concept(draw, pick(draw, level.codes))
    return {"text": pick(draw, level.words).capitalize()}


def draw_finding_condition(
    draw: st.DrawFn, chart: Chart, kind: FindingKind, *, current: bool, group: str | None = None
) -> JsonObject:
    """A Condition naming a symptom, red flag or problem of the rules (by code, or by words when the rules
    know the concept only by words)."""
    space = chart.space
    concept = pick(draw, space.concepts(kind, group))
    codes = concept.codes
    if concept.text_patterns and (not codes or chance(draw)):
        code: JsonObject = {"text": f"{pick(draw, concept.text_patterns).capitalize()} syndrome"}
    else:
        code = draw_codeable_concept(draw, pick(draw, codes))
    clinical = pick(draw, CURRENT_CLINICAL + (() if current else ENDED_CLINICAL))
    onset = draw_moment(draw, chart.now, *((0, HISTORY_DAYS) if current else pick(draw, CONDITION_SPANS)))
    condition: JsonObject = {
        "resourceType": "Condition",
        "id": draw(FHIR_IDS),
        "clinicalStatus": _status(CLINICAL, clinical),
        "verificationStatus": _status(
            VERIFICATION, pick(draw, CURRENT_VERIFICATION + (() if current else ("refuted",)))
        ),
        "category": [_status(CONDITION_CATEGORY, pick(draw, ["problem-list-item", "encounter-diagnosis"]))],
        "code": code,
        "subject": draw_patient_reference(draw, chart.patient_id),
    }
    when = pick(draw, ["onsetDateTime", "onsetPeriod", "recordedDate", "both", "none"])
    if when in ("onsetDateTime", "both"):
        condition["onsetDateTime"] = draw_date_time(draw, onset)
    if when == "onsetPeriod":
        condition["onsetPeriod"] = {"start": draw_date_time(draw, onset)}
    if when in ("recordedDate", "both"):
        condition["recordedDate"] = draw_date_time(draw, onset)
    if clinical in ENDED_CLINICAL and chance(draw):
        ended = onset + dt.timedelta(days=draw(integers(0, 60)))
        condition["abatementDateTime"] = draw_date_time(draw, ended)
    if kind != "problem":
        sites = [draw_body_site(draw, space) for _ in range(draw(integers(0, 2)))]
        if sites:
            condition["bodySite"] = sites
        if chance(draw):
            condition["severity"] = draw_severity(draw, space)
    return condition


def _finding_value(draw: st.DrawFn, space: RuleSpace, current: bool) -> JsonObject:
    """No value, a severity, a count, present; unless `current`, also absent (valueBoolean false)."""
    shapes = ("none", "severity", "frequency", "integer", "present")
    shape = pick(draw, shapes if current else (*shapes, "absent"))
    if shape == "severity":
        return {"valueCodeableConcept": draw_severity(draw, space)}
    if shape == "frequency":
        count = draw(integers(1, 30))
        return {"valueQuantity": {"value": count, "unit": "/d", "system": UCUM, "code": "/d"}}
    if shape == "integer":
        return {"valueInteger": draw(integers(1, 30))}
    if shape in ("present", "absent"):
        return {"valueBoolean": shape == "present"}
    return {}


def draw_finding_observation(
    draw: st.DrawFn, chart: Chart, kind: FindingKind, *, current: bool
) -> JsonObject:
    """An Observation recording a finding (present, absent, graded or counted). Concepts the rules know
    only by words are left out, since an Observation is recognised by its code alone."""
    space = chart.space
    concept = pick(draw, [c for c in space.concepts(kind) if c.codes])
    window = space.window(WINDOW[kind])
    moment = draw_when(draw, chart.now, window, current=current)
    observation: JsonObject = {
        "resourceType": "Observation",
        "id": draw(FHIR_IDS),
        "status": pick(draw, CURRENT_OBSERVATION + (() if current else ("cancelled",))),
        "category": [_status(OBSERVATION_CATEGORY, "exam")],
        "code": draw_codeable_concept(draw, pick(draw, concept.codes)),
        "subject": draw_patient_reference(draw, chart.patient_id),
        **_observation_dates(draw, moment, dated=current),
        **_finding_value(draw, space, current),
    }
    if chance(draw):
        observation["bodySite"] = draw_body_site(draw, space)
    return observation


def draw_finding(
    draw: st.DrawFn, chart: Chart, kind: FindingKind, *, current: bool, group: str | None = None
) -> JsonObject:
    """A Condition, or (for a problem of any group) an Observation, of one finding kind."""
    coded = any(c.codes for c in chart.space.concepts(kind))
    if group is None and coded and chance(draw):
        return draw_finding_observation(draw, chart, kind, current=current)
    return draw_finding_condition(draw, chart, kind, current=current, group=group)


def _value_range(concept: MeasuredConcept) -> tuple[float, float]:
    if not concept.thresholds:
        return DEFAULT_RANGE
    return 0.4 * min(concept.thresholds), 1.6 * max(concept.thresholds)


def draw_canonical_value(draw: st.DrawFn, concept: MeasuredConcept, *, near: bool = False) -> float:
    """A value in the concept's canonical unit, to two decimals, dense around the rules' thresholds: on
    one or just either side of it (always, when `near`), so a comparison or a moved threshold shows."""
    if concept.thresholds and (near or draw(integers(0, 2)) == 0):
        return round(pick(draw, concept.thresholds) + pick(draw, NEAR_STEPS), 2)
    low, high = _value_range(concept)
    return draw(integers(round(low * 100), round(high * 100))) / 100


def written(canonical: float, factor: float) -> float | int:
    """A canonical value as a lab writes it in another unit: to two decimals, whole when it is whole."""
    value = round(canonical / factor, 2)
    return int(value) if value.is_integer() else value


def _measured_quantity(draw: st.DrawFn, concept: MeasuredConcept, canonical: float) -> JsonObject:
    spelling = pick(draw, concept.spellings)
    return draw_quantity(draw, written(canonical, spelling.factor), spelling.spelling, spelling.unit)


def _reference_range(draw: st.DrawFn, concept: MeasuredConcept) -> JsonObject:
    low, high = sorted([draw_canonical_value(draw, concept), draw_canonical_value(draw, concept)])
    found: JsonObject = {}
    for name, canonical in pick(draw, [[("low", low)], [("high", high)], [("low", low), ("high", high)]]):
        quantity = _measured_quantity(draw, concept, canonical)
        found[name] = {"value": quantity["value"]} if chance(draw) else quantity
    return found


def _measured_value(draw: st.DrawFn, concept: MeasuredConcept, current: bool, near: bool) -> JsonObject:
    canonical = draw_canonical_value(draw, concept, near=near)
    shapes = ["quantity", "quantity", "quantity"]
    if concept.unit == "{score}":
        shapes.append("integer")
    if not current:
        shapes += ["unknown unit", "no unit", "absent"]
    shape = pick(draw, shapes)
    if shape == "quantity":
        return {"valueQuantity": _measured_quantity(draw, concept, canonical)}
    if shape == "integer":
        return {"valueInteger": round(canonical)}
    if shape == "unknown unit":
        return {"valueQuantity": {"value": canonical, "unit": pick(draw, UNKNOWN_UNITS)}}
    if shape == "no unit":
        return {"valueQuantity": {"value": canonical}}
    return {"dataAbsentReason": _status(DATA_ABSENT, "error")}


def draw_measured(
    draw: st.DrawFn,
    chart: Chart,
    kind: MeasuredKind,
    *,
    current: bool,
    concept: MeasuredConcept | None = None,
    taken: dt.datetime | None = None,
    near: bool = False,
) -> JsonObject:
    """A lab result or scored assessment in any unit the rules understand, with or without the lab's
    reference range and interpretation; `taken` dates it (a panel shares one moment); `near` puts its
    value near one of the concept's thresholds."""
    space = chart.space
    chosen = concept or pick(draw, space.measured_of(kind))
    window = space.window(WINDOW[kind])
    moment = taken or draw_when(draw, chart.now, window, current=current)
    observation: JsonObject = {
        "resourceType": "Observation",
        "id": draw(FHIR_IDS),
        "status": pick(draw, CURRENT_OBSERVATION + (() if current else ("cancelled",))),
        "category": [_status(OBSERVATION_CATEGORY, "laboratory" if kind == "lab" else "survey")],
        "code": draw_codeable_concept(draw, pick(draw, chosen.codes)),
        "subject": draw_patient_reference(draw, chart.patient_id),
        **_observation_dates(draw, moment, dated=current),
        **_measured_value(draw, chosen, current, near),
    }
    if kind == "lab" and draw(integers(0, 2)) == 0:
        observation["interpretation"] = [_status(INTERPRETATION, pick(draw, INTERPRETATION_CODES))]
    if kind == "lab" and "valueQuantity" in observation and draw(integers(0, 2)) == 0:
        observation["referenceRange"] = [_reference_range(draw, chosen)]
    return observation


def _medication_concept(draw: st.DrawFn, space: RuleSpace) -> JsonObject:
    ingredient = pick(draw, space.ingredients)
    name = pick(draw, (ingredient.name, *ingredient.names))
    text = f"{name.capitalize()} {pick(draw, ['25 MG Oral Tablet', '10 MG', '40mg'])}"
    if ingredient.rxnorm and chance(draw):
        concept: JsonObject = {"coding": [draw_coding(draw, pick(draw, ingredient.rxnorm))]}
        if chance(draw):
            concept["text"] = text
        return concept
    return {"text": text}


def draw_medication(draw: st.DrawFn, chart: Chart, *, current: bool) -> JsonObject:
    """A MedicationRequest or MedicationStatement for an ingredient the rules name, by RxNorm code or
    by name; the medication inline or in a contained Medication."""
    resource_type = pick(draw, sorted(MEDICATION_STATUSES))
    resource: JsonObject = {
        "resourceType": resource_type,
        "id": draw(FHIR_IDS),
        "status": "active" if current else pick(draw, MEDICATION_STATUSES[resource_type]),
        "subject": draw_patient_reference(draw, chart.patient_id),
    }
    if resource_type == "MedicationRequest":
        resource["intent"] = "order"
    concept = _medication_concept(draw, chart.space)
    if chance(draw):
        resource["medicationCodeableConcept"] = concept
    else:
        resource["contained"] = [{"resourceType": "Medication", "id": "med", "code": concept}]
        resource["medicationReference"] = {"reference": "#med"}
    moment = draw_when(draw, chart.now, MEDICATION_DAYS, current=current)
    date_field = "authoredOn" if resource_type == "MedicationRequest" else "effectiveDateTime"
    resource[date_field] = draw_date_time(draw, moment)
    return resource
