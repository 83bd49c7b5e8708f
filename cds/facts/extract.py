"""FHIR resources in, clinical facts out: the one path from a record to what the rules see."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

from cds.facts.measurements import measurement_facts, read_measurements
from cds.facts.medications import medication_facts
from cds.facts.models import Fact, SetAside, WholeRecord
from cds.facts.occurrences import build_occurrences, finding_facts, histories
from cds.facts.parameters import FactParameters
from cds.facts.patterns import find_patterns
from cds.facts.regions import BodySites
from cds.facts.select import select
from cds.fhir import PatientMatcher, RawResource
from cds.terminology import Terminology


@dataclass
class FactSet:
    patient_id: str
    now: dt.datetime
    facts: list[Fact]
    set_aside: list[SetAside]
    notes: list[str] = field(default_factory=list)

    def by_id(self) -> dict[str, Fact]:
        return {f.id: f for f in self.facts}


def extract_facts(
    resources: Sequence[RawResource],
    *,
    matcher: PatientMatcher,
    terminology: Terminology,
    parameters: FactParameters,
    now: dt.datetime,
    sites: BodySites,
) -> FactSet:
    """`sites` is the placement table of `parameters`, built once per rulebook (`Evaluator`). A step
    with nothing to read is not called (most calls have no medication, many no result)."""
    selection = select(resources, matcher=matcher, terminology=terminology, parameters=parameters, now=now)
    set_aside = list(selection.set_aside)
    facts: list[Fact] = []
    if selection.findings:
        occurrences, aside = build_occurrences(selection.findings, terminology, parameters, sites, now)
        set_aside += aside
        grouped = histories(occurrences)
        patterns, courses = find_patterns(occurrences, grouped, terminology, parameters, sites, now)
        facts += finding_facts(grouped, terminology, now, courses)
        facts += patterns
    electrolytes_checked = False
    if selection.measured:
        readings, aside = read_measurements(selection.measured, terminology, parameters)
        set_aside += aside
        measured, aside, electrolytes_checked = measurement_facts(readings, terminology, parameters, now)
        set_aside += aside
        facts += measured
    if selection.medications:
        facts += medication_facts(selection.medications, terminology)
    kinds = [f.kind for f in facts]
    facts.append(
        WholeRecord.of(
            id="record",
            label="record",
            electrolytes_in_lookback=electrolytes_checked,
            symptom_count=kinds.count("symptom"),
            red_flag_count=kinds.count("red_flag"),
        )
    )
    facts.sort(key=_ID)
    return FactSet(
        patient_id=matcher.patient_id,
        now=now,
        facts=facts,
        set_aside=sorted(set(set_aside), key=_REFERENCE_AND_REASON) if set_aside else set_aside,
        notes=sorted(set(selection.notes)),
    )


_ID = operator.attrgetter("id")
_REFERENCE_AND_REASON = operator.attrgetter("reference", "reason")
