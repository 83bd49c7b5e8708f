"""Hypothesis strategies for this service's inputs, drawn from the rules' own value sets.

Every strategy takes the moment of evaluation (`now`) where dates matter, and an optional `space`
(`load_space(rules_dir)`; default: the shipped rules), so edited rules give matching data without any
change here. Resources are plain JSON dicts and every one validates as FHIR R4 (R4B models).

    from cds.testing.strategies import patient_records
    @given(patient_records(now=NOW))
    def test_my_property(record): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from hypothesis import strategies as st

from cds.testing.charts import PATIENT_IDS, draw_record, patient_records
from cds.testing.clinical import Chart, draw_finding, draw_measured, draw_medication
from cds.testing.facts import fact_sets
from cds.testing.fhir_values import JsonObject, pick
from cds.testing.noise import (
    draw_benign_contributor,
    draw_entered_in_error,
    draw_irrelevant,
    draw_other_patients,
    draw_patient,
    draw_relevant,
    entered_in_error,
)
from cds.testing.records import PatientRecord
from cds.testing.space import FindingKind, MeasuredConcept, MeasuredKind, RuleSpace, load_space
from cds.testing.units import in_other_units

EARLIEST = dt.datetime(2000, 1, 1)
LATEST = dt.datetime(2040, 12, 31)
DEFAULT_PATIENT = "pat-1"
T = TypeVar("T")


def _strategy(drawer: Callable[[st.DrawFn], T]) -> st.SearchStrategy[T]:
    @st.composite
    def strategy(draw: st.DrawFn) -> T:
        return drawer(draw)

    return strategy()


def _chart(now: dt.datetime, patient_id: str, space: RuleSpace | None) -> Chart:
    return Chart(now=now, patient_id=patient_id, space=space or load_space())


def findings(
    kind: FindingKind,
    *,
    now: dt.datetime,
    patient_id: str = DEFAULT_PATIENT,
    space: RuleSpace | None = None,
    current: bool = False,
    group: str | None = None,
) -> st.SearchStrategy[JsonObject]:
    """Conditions (and, unless `group` is given, Observations) naming a symptom, red flag or problem:
    clinical and verification statuses, onset and abatement, body sites, severity."""
    chart = _chart(now, patient_id, space)
    return _strategy(lambda draw: draw_finding(draw, chart, kind, current=current, group=group))


def measured_observations(
    kind: MeasuredKind,
    *,
    now: dt.datetime,
    patient_id: str = DEFAULT_PATIENT,
    space: RuleSpace | None = None,
    current: bool = False,
    concept: MeasuredConcept | None = None,
) -> st.SearchStrategy[JsonObject]:
    """Lab results (`kind="lab"`) or assessments in every unit spelling the rules understand (UCUM code,
    unit text only, `mEq/L`), with and without reference ranges and interpretation codes."""
    chart = _chart(now, patient_id, space)
    return _strategy(lambda draw: draw_measured(draw, chart, kind, current=current, concept=concept))


def medications(
    *,
    now: dt.datetime,
    patient_id: str = DEFAULT_PATIENT,
    space: RuleSpace | None = None,
    current: bool = False,
) -> st.SearchStrategy[JsonObject]:
    """MedicationRequests and MedicationStatements for the ingredients the rules name."""
    chart = _chart(now, patient_id, space)
    return _strategy(lambda draw: draw_medication(draw, chart, current=current))


def relevant_resources(
    *,
    now: dt.datetime,
    patient_id: str = DEFAULT_PATIENT,
    space: RuleSpace | None = None,
    current: bool = False,
) -> st.SearchStrategy[JsonObject]:
    """Any resource the rules look at."""
    chart = _chart(now, patient_id, space)
    return _strategy(lambda draw: draw_relevant(draw, chart, current=current))


def benign_contributors(
    *, now: dt.datetime, patient_id: str = DEFAULT_PATIENT, space: RuleSpace | None = None
) -> st.SearchStrategy[JsonObject]:
    """Current contributing diagnoses, lab and assessment results, and active medications."""
    chart = _chart(now, patient_id, space)
    return _strategy(lambda draw: draw_benign_contributor(draw, chart))


def irrelevant_resources(
    *, now: dt.datetime, patient_id: str = DEFAULT_PATIENT, space: RuleSpace | None = None
) -> st.SearchStrategy[JsonObject]:
    """The patient's resources the rules never look at: other codes, other drugs, other resource types."""
    chart = _chart(now, patient_id, space)
    return _strategy(lambda draw: draw_irrelevant(draw, chart))


def other_patient_resources(
    *, now: dt.datetime, other_patient_id: str, space: RuleSpace | None = None
) -> st.SearchStrategy[JsonObject]:
    """Resources that would count if they were this patient's, about `other_patient_id`, and their Patient."""
    chart = _chart(now, other_patient_id, space)
    return _strategy(lambda draw: draw_other_patients(draw, chart))


def entered_in_error_resources(
    *, now: dt.datetime, patient_id: str = DEFAULT_PATIENT, space: RuleSpace | None = None
) -> st.SearchStrategy[JsonObject]:
    """Resources that would count as current evidence, marked entered-in-error."""
    chart = _chart(now, patient_id, space)
    return _strategy(lambda draw: draw_entered_in_error(draw, chart))


def patients(patient_id: str = DEFAULT_PATIENT) -> st.SearchStrategy[JsonObject]:
    return _strategy(lambda draw: draw_patient(draw, patient_id))


_MOMENTS = st.datetimes(EARLIEST, LATEST, timezones=st.just(dt.UTC))


def evaluation_moments() -> st.SearchStrategy[dt.datetime]:
    """Moments to evaluate at, in UTC: time windows must work the same on any day (leap days included)."""
    return _MOMENTS


@st.composite
def records_at_any_time(
    draw: st.DrawFn, *, space: RuleSpace | None = None, patient_id: str | None = None, noise: bool = True
) -> PatientRecord:
    """`patient_records` evaluated at a drawn moment."""
    now = draw(_MOMENTS)
    chart = _chart(now, patient_id or pick(draw, PATIENT_IDS), space)
    return draw_record(draw, chart, noise=noise)


__all__ = [
    "benign_contributors",
    "entered_in_error",
    "entered_in_error_resources",
    "evaluation_moments",
    "fact_sets",
    "findings",
    "in_other_units",
    "irrelevant_resources",
    "measured_observations",
    "medications",
    "other_patient_resources",
    "patient_records",
    "patients",
    "records_at_any_time",
    "relevant_resources",
]
