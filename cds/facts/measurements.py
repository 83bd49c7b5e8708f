"""Lab results and scored assessments: one unit per analyte, the lab's own flags first, latest counts.

A value whose unit is not understood is never compared: it is set aside as unusable evidence, unless
the lab flagged it, when the flag alone counts. A value written with a comparator ("<1.0") keeps it;
a result flagged low with no value at all is still low.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import Struct, structs

from cds.facts.dates import days_between
from cds.facts.models import Assessment, Evidence, Fact, Lab, LabFlag, SetAside
from cds.facts.parameters import FactParameters, InterpretationFile, LabFlagReading
from cds.facts.select import Usable
from cds.terminology import ConceptMatch, Terminology
from cds.terminology.codeable import codings

DECIMALS = 4
COMPARATORS = ("<=", ">=", "<", ">")
_WRITTEN_VALUE = re.compile(
    r"^\s*(?P<comparator><=|>=|<|>)?\s*(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>\S.*)?$"
)


def fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


class Written(Struct, frozen=True, gc=False):
    """A value as the resource wrote it: number, unit and comparator (any may be missing)."""

    number: float | None
    unit: str | None
    comparator: str = ""

    def words(self) -> str:
        if self.number is None:
            return "(no value)"
        return f"{self.comparator}{fmt(self.number)}" + (f" {self.unit}" if self.unit else "")


class Reading(Struct, frozen=True, gc=False):
    """One result as read, a msgspec Struct: built in C, a fifth of a frozen dataclass."""

    usable: Usable
    kind: str
    name: str
    value: float | None
    """In the analyte's canonical unit; None when the result carries no usable value, only a flag."""
    written: Written
    unit: str
    when: dt.datetime
    interpretation: tuple[LabFlagReading, str] | None = None
    """What the lab's own interpretation code says, and the code."""

    @property
    def evidence(self) -> Evidence:
        raw = self.usable.raw
        return Evidence.of(
            resource_type=raw.resource_type,
            resource_id=raw.id,
            origin=self.usable.origin,
            date=self.when.date(),
            text=f"{self.usable.what}: {self.written.words()}",
        )

    def words(self, label: str) -> str:
        if self.value is None:
            shown = f"{label} {self.written.words()}"
            if self.written.number is not None:
                shown += " (unit not understood: not compared)"
        else:
            shown = f"{label} {self.written.comparator}{fmt(self.value)} {self.unit}"
            if self.written.unit != self.unit:
                shown += f" ({self.written.words()})"
        return f"{shown} on {self.when.date().isoformat()}"


def written_value(resource: Mapping[str, Any]) -> Written:
    """valueQuantity (with its comparator), valueInteger, or a number written in valueString."""
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, Mapping):
        value = quantity.get("value")
        unit = quantity.get("code") or quantity.get("unit")
        comparator = quantity.get("comparator")
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        return Written(
            number,
            unit if isinstance(unit, str) else None,
            comparator if comparator in COMPARATORS else "",
        )
    value = resource.get("valueInteger")
    if isinstance(value, int) and not isinstance(value, bool):
        return Written(float(value), None)
    text = resource.get("valueString")
    match = _WRITTEN_VALUE.match(text) if isinstance(text, str) else None
    if match:
        return Written(float(match["number"]), match["unit"], match["comparator"] or "")
    return Written(None, None)


def interpretation_of(
    resource: Mapping[str, Any], table: InterpretationFile
) -> tuple[LabFlagReading, str] | None:
    for concept in resource.get("interpretation") or []:
        for system, code in codings(concept):
            if code in table.codes and (system is None or system in table.systems):
                return table.codes[code].flag, code
    return None


def read_measurements(
    usable: Sequence[Usable], terminology: Terminology, parameters: FactParameters
) -> tuple[list[Reading], list[SetAside]]:
    readings: list[Reading] = []
    set_aside: list[SetAside] = []
    for item in usable:
        match = item.match
        if not isinstance(match, ConceptMatch) or match.kind not in ("lab", "assessment"):
            continue
        resource = item.raw.resource
        what = item.what
        written = written_value(resource)
        flag = interpretation_of(resource, parameters.interpretation) if match.kind == "lab" else None
        directed = flag is not None and flag[0] != "read_value"
        spec = terminology.measured[match.kind][match.name]
        unit = terminology.canonical_unit(match.kind, match.name, written.unit)
        if unit is None and written.unit is None and spec.unit == "{score}":
            unit = spec.unit
        value = None
        if written.number is not None and unit is not None:
            value = round(terminology.convert(match.kind, match.name, written.number, unit), DECIMALS)
        elif not directed:
            set_aside.append(
                SetAside.of(reference=item.reference, what=what, reason=_unusable(written, spec))
            )
            continue
        if item.when is None:
            set_aside.append(SetAside.of(reference=item.reference, what=what, reason="has no date"))
            continue
        readings.append(
            Reading(
                usable=item,
                kind=match.kind,
                name=match.name,
                value=value,
                written=written,
                unit=spec.unit,
                when=item.when,
                interpretation=flag,
            )
        )
    return readings, set_aside


def _unusable(written: Written, spec: Any) -> str:
    if written.number is None:
        return "has no numeric value"
    expected = ", ".join(spec.units)
    return (
        f"unusable evidence: unit {written.unit or '(none)'!r} is not understood for "
        f"{spec.label} (expected {expected}); not compared"
    )


def _flag_from_lab(
    reading: Reading, terminology: Terminology, use_interpretation: bool
) -> tuple[LabFlag, str]:
    """The lab's flag, else its reference range, else none (the rule's default threshold applies)."""
    if use_interpretation and reading.interpretation is not None:
        flag, code = reading.interpretation
        if flag != "read_value":
            return flag, f"flagged {code} by the lab"
    if reading.value is None:
        return "none", "the lab gave no value"
    for reference_range in reading.usable.raw.resource.get("referenceRange") or []:
        if not isinstance(reference_range, Mapping):
            continue
        low = _bound(reference_range.get("low"), reading, terminology)
        high = _bound(reference_range.get("high"), reading, terminology)
        if low is None and high is None:
            continue
        shown = (
            f"{fmt(low) if low is not None else ''}-{fmt(high) if high is not None else ''} {reading.unit}"
        )
        if low is not None and reading.value < low:
            return "low", f"below the lab's reference range {shown}"
        if high is not None and reading.value > high:
            return "high", f"above the lab's reference range {shown}"
        return "normal", f"within the lab's reference range {shown}"
    if reading.interpretation is not None:
        return (
            "none",
            f"flagged {reading.interpretation[1]} by the lab (no direction), and no reference range",
        )
    return "none", "the lab gave no reference range or flag"


def _bound(quantity: object, reading: Reading, terminology: Terminology) -> float | None:
    if not isinstance(quantity, Mapping):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    written = quantity.get("code") or quantity.get("unit") or reading.written.unit
    unit = terminology.canonical_unit(
        reading.kind, reading.name, written if isinstance(written, str) else None
    )
    if unit is None:
        return None
    return round(terminology.convert(reading.kind, reading.name, float(value), unit), DECIMALS)


def measurement_facts(
    readings: Sequence[Reading], terminology: Terminology, parameters: FactParameters, now: dt.datetime
) -> tuple[list[Fact], list[SetAside], bool]:
    """Latest reading per analyte (older ones were set aside on selection), an analyte with precedence
    over another setting that one aside; says whether any electrolyte was checked."""
    policy = parameters.lab_reading
    set_aside: list[SetAside] = []
    latest: dict[tuple[str, str], Reading] = {}
    for reading in sorted(readings, key=lambda r: (r.when, r.usable.reference)):
        key = (reading.kind, reading.name)
        if key in latest:
            set_aside.append(
                _aside(latest[key], terminology, f"superseded by a later result ({reading.usable.reference})")
            )
        latest[key] = reading
    for winner, losers in policy.precedence.items():
        if ("lab", winner) not in latest:
            continue
        for loser in losers:
            if ("lab", loser) in latest:
                reason = (
                    f"{terminology.label('lab', winner)} ({latest[('lab', winner)].usable.reference}) takes "
                    "precedence (lab_reading.yaml)"
                )
                set_aside.append(_aside(latest.pop(("lab", loser)), terminology, reason))
    correctors = sorted((r for r in readings if r.name == policy.correction_analyte), key=lambda r: r.when)
    facts: list[Fact] = []
    for (kind, name), reading in sorted(latest.items()):
        label = terminology.label(kind, name)
        if kind == "assessment" and reading.value is not None:
            facts.append(
                Assessment.of(
                    id=f"assessment:{name}",
                    label=label,
                    instrument=name,
                    score=reading.value,
                    days_ago=days_between(reading.when, now),
                    evidence=(reading.evidence,),
                    detail=reading.words(label),
                )
            )
        elif kind == "lab" and name != policy.correction_analyte:
            facts.append(_lab_fact(reading, label, correctors, terminology, parameters, now))
    checked = any(kind == "lab" and name in policy.electrolytes for kind, name in latest)
    return facts, set_aside, checked


def _aside(reading: Reading, terminology: Terminology, reason: str) -> SetAside:
    return SetAside.of(
        reference=reading.usable.reference,
        what=reading.words(terminology.label(reading.kind, reading.name)),
        reason=reason,
    )


def _lab_fact(
    reading: Reading,
    label: str,
    correctors: Sequence[Reading],
    terminology: Terminology,
    parameters: FactParameters,
    now: dt.datetime,
) -> Lab:
    spec = terminology.measured["lab"][reading.name]
    corrector = None
    if spec.albumin_correction and reading.value is not None:
        gap = dt.timedelta(days=parameters.albumin_max_gap_days)
        near = [a for a in correctors if a.value is not None and abs(a.when - reading.when) <= gap]
        corrector = min(near, key=lambda a: abs(a.when - reading.when)) if near else None
    value = reading.value
    evidence = [reading.evidence]
    words = reading.words(label)
    if corrector is not None and corrector.value is not None and reading.value is not None:
        shift = parameters.albumin_correction_factor * (parameters.albumin_reference_g_dl - corrector.value)
        value = round(reading.value + shift, DECIMALS)
        evidence.append(corrector.evidence)
        words = (
            f"{label} {fmt(value)} {reading.unit} corrected for "
            f"{terminology.label('lab', corrector.name)} {fmt(corrector.value)} {corrector.unit} "
            f"({corrector.usable.reference}; measured {fmt(reading.value)} {reading.unit}) "
            f"on {reading.when.date().isoformat()}"
        )
    corrected = reading if value == reading.value else structs.replace(reading, value=value)
    flag, flag_words = _flag_from_lab(corrected, terminology, use_interpretation=corrector is None)
    return Lab.of(
        id=f"lab:{reading.name}",
        label=label,
        analyte=reading.name,
        value=value,
        unit=reading.unit,
        lab_flag=flag,
        days_ago=days_between(reading.when, now),
        corrected=corrector is not None,
        evidence=tuple(evidence),
        detail=f"{words}; {flag_words}",
    )
