"""Drawing whole charts: symptom histories, red flags, problems, lab panels, drugs and noise, per patient.

Real charts come back to a few concepts (a symptom recorded several times, a drug and its refill, a
panel of labs taken together), which is where histories, re-tests and duplicates arise, so a chart is
drawn as such items rather than as unrelated resources.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, TypeVar

from hypothesis import strategies as st

from cds.testing.clinical import WINDOW, Chart, draw_finding, draw_measured, draw_medication
from cds.testing.fhir_values import chance, draw_when, integers, pick
from cds.testing.noise import draw_entered_in_error, draw_irrelevant, draw_other_patients, draw_patient
from cds.testing.records import Entry, PatientRecord
from cds.testing.space import FindingKind, RuleSpace, load_space

T = TypeVar("T")
PATIENT_IDS = ("pat-1", "7c1f0e2a-9b3d", "example")
CLINICAL_ROLES: tuple[Literal["red_flag", "problem", "lab", "assessment", "medication"], ...] = (
    "red_flag",
    "problem",
    "lab",
    "assessment",
    "medication",
)


def _with_ids(entries: list[Entry]) -> list[Entry]:
    """Numbers every resource but the Patients (their ids are who the record is about)."""
    numbered = []
    for index, entry in enumerate(entries):
        if entry.resource["resourceType"] == "Patient":
            numbered.append(entry)
        else:
            resource_id = f"{entry.role.replace('_', '-')}-{index}"
            numbered.append(Entry(role=entry.role, resource={**entry.resource, "id": resource_id}))
    return numbered


def _mostly_current(draw: st.DrawFn) -> bool:
    """Current evidence two times in three: a chart of only set-aside resources says little."""
    return draw(integers(0, 2)) < 2


def _single_concept(draw: st.DrawFn, space: RuleSpace, kind: FindingKind) -> RuleSpace:
    """The space with a single concept of `kind`, so several resources tell one concept's history."""
    concept = pick(draw, space.concepts(kind))
    findings = tuple(c for c in space.findings if c.kind != kind or c == concept)
    return space.narrowed(findings, space.measured, space.ingredients)


def _episode(draw: st.DrawFn, chart: Chart, role: FindingKind) -> list[Entry]:
    """One to three resources about the same symptom or red flag: a history to see it worsen or spread."""
    single = Chart(now=chart.now, patient_id=chart.patient_id, space=_single_concept(draw, chart.space, role))
    count = draw(integers(1, 3))
    return [
        Entry(role=role, resource=draw_finding(draw, single, role, current=_mostly_current(draw)))
        for _ in range(count)
    ]


def _lab_panel(draw: st.DrawFn, chart: Chart) -> list[Entry]:
    """One to three lab results taken together, as a panel is (so calcium comes with its albumin)."""
    current = _mostly_current(draw)
    window = chart.space.window(WINDOW["lab"])
    taken = draw_when(draw, chart.now, window, current=current)
    labs = _few(draw, chart.space.measured_of("lab"), 3)
    return [
        Entry(
            role="lab", resource=draw_measured(draw, chart, "lab", current=current, concept=lab, taken=taken)
        )
        for lab in labs
    ]


def _prescriptions(draw: st.DrawFn, chart: Chart) -> list[Entry]:
    """One or two requests or statements for the same drug, as refills and reconciled lists give. Half
    the time the drug is one the rules also know by RxNorm code: real prescriptions are mostly coded, and
    a coded and an uncoded entry of one drug is where recognition by code and by name meet."""
    coded = [i for i in chart.space.ingredients if i.rxnorm]
    ingredient = pick(draw, coded if coded and chance(draw) else chart.space.ingredients)
    space = chart.space.narrowed(chart.space.findings, chart.space.measured, (ingredient,))
    single = Chart(now=chart.now, patient_id=chart.patient_id, space=space)
    return [
        Entry(role="medication", resource=draw_medication(draw, single, current=_mostly_current(draw)))
        for _ in range(draw(integers(1, 2)))
    ]


def _clinical_entries(draw: st.DrawFn, chart: Chart) -> list[Entry]:
    role = pick(draw, CLINICAL_ROLES)
    if role == "medication":
        return _prescriptions(draw, chart)
    if role == "lab":
        return _lab_panel(draw, chart)
    if role == "assessment":
        return [Entry(role=role, resource=draw_measured(draw, chart, role, current=_mostly_current(draw)))]
    if role == "red_flag":
        return _episode(draw, chart, role)
    return [Entry(role=role, resource=draw_finding(draw, chart, role, current=_mostly_current(draw)))]


def _few(draw: st.DrawFn, items: tuple[T, ...], most: int) -> tuple[T, ...]:
    chosen = sorted({draw(integers(0, len(items) - 1)) for _ in range(draw(integers(1, most)))})
    return tuple(items[index] for index in chosen)


def _palette(draw: st.DrawFn, space: RuleSpace) -> RuleSpace:
    """The space narrowed to a few symptoms, red flags, labs, assessments and drugs: real charts come back
    to the same few concepts, which is where histories, re-tests and duplicates of a kind arise."""
    findings = [c for c in space.findings if c.kind == "problem"]
    for kind in ("symptom", "red_flag"):
        findings += _few(draw, space.concepts(kind), 2)
    measured = _few(draw, space.measured_of("lab"), 3) + _few(draw, space.measured_of("assessment"), 1)
    return space.narrowed(tuple(findings), measured, _few(draw, space.ingredients, 2))


def draw_record(
    draw: st.DrawFn, chart: Chart, *, noise: bool = True, max_episodes: int = 2, max_clinical: int = 5
) -> PatientRecord:
    """A chart: a few symptom histories, a few other clinical items of any kind (a red flag's history,
    a problem, a lab panel, an assessment, a drug and its refill; few enough that a lone contributor or
    red flag is common), and with `noise` irrelevant, other-patient and entered-in-error resources."""
    if chance(draw):
        chart = Chart(now=chart.now, patient_id=chart.patient_id, space=_palette(draw, chart.space))
    entries = [Entry(role="patient", resource=draw_patient(draw, chart.patient_id))]
    for _ in range(draw(integers(0, max_episodes))):
        entries += _episode(draw, chart, "symptom")
    for _ in range(draw(integers(0, max_clinical))):
        entries += _clinical_entries(draw, chart)
    if noise:
        other = Chart(now=chart.now, patient_id=f"other-{chart.patient_id}", space=chart.space)
        for _ in range(draw(integers(0, 2))):
            entries.append(Entry(role="irrelevant", resource=draw_irrelevant(draw, chart)))
        for _ in range(draw(integers(0, 2))):
            entries.append(Entry(role="other_patient", resource=draw_other_patients(draw, other)))
        for _ in range(draw(integers(0, 2))):
            entries.append(Entry(role="entered_in_error", resource=draw_entered_in_error(draw, chart)))
    return PatientRecord(patient_id=chart.patient_id, now=chart.now, entries=tuple(_with_ids(entries)))


@st.composite
def patient_records(
    draw: st.DrawFn,
    *,
    now: dt.datetime,
    space: RuleSpace | None = None,
    patient_id: str | None = None,
    noise: bool = True,
) -> PatientRecord:
    """A patient's chart evaluated at `now`: symptoms, red flags, problems, labs, assessments and
    medications, current or not, and (with `noise`) irrelevant resources, other patients' data and
    entered-in-error resources."""
    chart = Chart(now=now, patient_id=patient_id or pick(draw, PATIENT_IDS), space=space or load_space())
    return draw_record(draw, chart, noise=noise)
