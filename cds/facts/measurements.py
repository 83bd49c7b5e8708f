"""Lab results and scored assessments: one unit per analyte, the lab's own flags first, latest counts.

A value whose unit is not understood is set aside as unusable evidence and never compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cds.facts.dates import days_between
from cds.facts.models import Assessment, Evidence, Fact, Lab, LabFlag, SetAside
from cds.facts.select import Usable
from cds.rulebook.model import Rulebook
from cds.terminology import ConceptMatch
from cds.terminology.codeable import codings

INTERPRETATION: dict[str, LabFlag] = {
    "L": "low",
    "LL": "critical_low",
    "N": "normal",
    "H": "high",
    "HH": "critical_high",
}
ELECTROLYTES = frozenset({"potassium", "magnesium", "calcium_total", "calcium_corrected", "calcium_ionized"})
ALBUMIN_REFERENCE_G_DL = 4.0
ALBUMIN_FACTOR = 0.8
DECIMALS = 4


def fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


@dataclass(frozen=True, slots=True)
class Reading:
    usable: Usable
    kind: str
    name: str
    value: float
    raw_value: float
    raw_unit: str
    unit: str
    when: dt.datetime

    @property
    def evidence(self) -> Evidence:
        raw = self.usable.raw
        return Evidence(
            resource_type=raw.resource_type,
            resource_id=raw.id,
            origin=raw.origin,
            date=self.when.date(),
            text=f"{self.usable.what}: {fmt(self.raw_value)} {self.raw_unit}",
        )

    def words(self, label: str) -> str:
        shown = f"{label} {fmt(self.value)} {self.unit}"
        if self.raw_unit != self.unit:
            shown += f" ({fmt(self.raw_value)} {self.raw_unit})"
        return f"{shown} on {self.when.date().isoformat()}"


def _quantity(resource: Mapping[str, Any]) -> tuple[float, str | None] | None:
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, Mapping):
        value = quantity.get("value")
        unit = quantity.get("code") or quantity.get("unit")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), unit if isinstance(unit, str) else None
        return None
    value = resource.get("valueInteger")
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value), None
    return None


def read_measurements(
    usable: Sequence[Usable], rulebook: Rulebook, now: dt.datetime
) -> tuple[list[Reading], list[SetAside]]:
    terminology = rulebook.terminology
    readings: list[Reading] = []
    set_aside: list[SetAside] = []
    for item in usable:
        match = item.match
        if not isinstance(match, ConceptMatch) or match.kind not in ("lab", "assessment"):
            continue
        resource = item.raw.resource
        what = item.what
        quantity = _quantity(resource)
        if quantity is None:
            set_aside.append(SetAside(reference=item.reference, what=what, reason="has no numeric value"))
            continue
        value, written_unit = quantity
        spec = terminology.measured[match.kind][match.name]
        unit = terminology.canonical_unit(match.kind, match.name, written_unit)
        if unit is None and written_unit is None and spec.unit == "{score}":
            unit = spec.unit
        if unit is None:
            expected = ", ".join(spec.units)
            set_aside.append(
                SetAside(
                    reference=item.reference,
                    what=what,
                    reason=f"unusable evidence: unit {written_unit or '(none)'!r} is not understood for "
                    f"{spec.label} (expected {expected}); not compared",
                )
            )
            continue
        if item.when is None:
            set_aside.append(SetAside(reference=item.reference, what=what, reason="has no date"))
            continue
        readings.append(
            Reading(
                usable=item,
                kind=match.kind,
                name=match.name,
                value=round(terminology.convert(match.kind, match.name, value, unit), DECIMALS),
                raw_value=value,
                raw_unit=written_unit or unit,
                unit=spec.unit,
                when=item.when,
            )
        )
    return readings, set_aside


def _flag_from_lab(reading: Reading, rulebook: Rulebook, use_interpretation: bool) -> tuple[LabFlag, str]:
    resource = reading.usable.raw.resource
    if use_interpretation:
        for concept in resource.get("interpretation") or []:
            for _, code in codings(concept):
                if code in INTERPRETATION:
                    return INTERPRETATION[code], f"flagged {code} by the lab"
    for reference_range in resource.get("referenceRange") or []:
        if not isinstance(reference_range, Mapping):
            continue
        low = _bound(reference_range.get("low"), reading, rulebook)
        high = _bound(reference_range.get("high"), reading, rulebook)
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
    return "none", "the lab gave no reference range or flag"


def _bound(quantity: object, reading: Reading, rulebook: Rulebook) -> float | None:
    if not isinstance(quantity, Mapping):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    written = quantity.get("code") or quantity.get("unit") or reading.raw_unit
    unit = rulebook.terminology.canonical_unit(
        reading.kind, reading.name, written if isinstance(written, str) else None
    )
    if unit is None:
        return None
    return round(rulebook.terminology.convert(reading.kind, reading.name, float(value), unit), DECIMALS)


def measurement_facts(
    readings: Sequence[Reading], rulebook: Rulebook, now: dt.datetime
) -> tuple[list[Fact], list[SetAside], bool]:
    """Latest reading per analyte (older ones were set aside on selection); says whether any
    electrolyte was checked."""
    facts: list[Fact] = []
    set_aside: list[SetAside] = []
    latest: dict[tuple[str, str], Reading] = {}
    for reading in sorted(readings, key=lambda r: (r.when, r.usable.reference)):
        key = (reading.kind, reading.name)
        if key in latest:
            set_aside.append(
                SetAside(
                    reference=latest[key].usable.reference,
                    what=latest[key].words(rulebook.terminology.label(reading.kind, reading.name)),
                    reason=f"superseded by a later result ({reading.usable.reference})",
                )
            )
        latest[key] = reading
    albumins = sorted((r for r in readings if r.name == "albumin"), key=lambda r: r.when)
    for (kind, name), reading in sorted(latest.items()):
        label = rulebook.terminology.label(kind, name)
        if kind == "assessment":
            facts.append(
                Assessment(
                    id=f"assessment:{name}",
                    label=label,
                    instrument=name,
                    score=reading.value,
                    days_ago=days_between(reading.when, now),
                    evidence=(reading.evidence,),
                    detail=reading.words(label),
                )
            )
        elif name != "albumin":
            facts.append(_lab_fact(reading, label, albumins, rulebook, now))
    checked = any(kind == "lab" and name in ELECTROLYTES for kind, name in latest)
    return facts, set_aside, checked


def _lab_fact(
    reading: Reading, label: str, albumins: Sequence[Reading], rulebook: Rulebook, now: dt.datetime
) -> Lab:
    spec = rulebook.terminology.measured["lab"][reading.name]
    albumin = None
    if spec.albumin_correction:
        gap = dt.timedelta(days=rulebook.integer("albumin_max_gap_days"))
        near = [a for a in albumins if abs(a.when - reading.when) <= gap]
        albumin = min(near, key=lambda a: abs(a.when - reading.when)) if near else None
    value = reading.value
    evidence = [reading.evidence]
    words = reading.words(label)
    if albumin is not None:
        value = round(reading.value + ALBUMIN_FACTOR * (ALBUMIN_REFERENCE_G_DL - albumin.value), DECIMALS)
        evidence.append(albumin.evidence)
        words = (
            f"{label} {fmt(value)} {reading.unit} corrected for albumin {fmt(albumin.value)} {albumin.unit} "
            f"({albumin.usable.reference}; measured {fmt(reading.value)} {reading.unit}) "
            f"on {reading.when.date().isoformat()}"
        )
    corrected = Reading(
        usable=reading.usable,
        kind=reading.kind,
        name=reading.name,
        value=value,
        raw_value=reading.raw_value,
        raw_unit=reading.raw_unit,
        unit=reading.unit,
        when=reading.when,
    )
    flag, flag_words = _flag_from_lab(corrected, rulebook, use_interpretation=albumin is None)
    return Lab(
        id=f"lab:{reading.name}",
        label=label,
        analyte=reading.name,
        value=value,
        unit=reading.unit,
        lab_flag=flag,
        days_ago=days_between(reading.when, now),
        corrected=albumin is not None,
        evidence=tuple(evidence),
        detail=f"{words}; {flag_words}",
    )
