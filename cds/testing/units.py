"""The same measurement written in another unit, for the unit-invariance property."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from cds.testing.fhir_values import UCUM, JsonObject, chance, pick
from cds.testing.records import Entry, PatientRecord
from cds.testing.space import MeasuredConcept, RuleSpace, UnitSpelling, load_space


def measured_concept_of(resource: Mapping[str, Any], space: RuleSpace) -> MeasuredConcept | None:
    code = resource.get("code")
    for coding in code.get("coding", []) if isinstance(code, Mapping) else []:
        found = space.measured_concept(coding.get("system", ""), coding.get("code", ""))
        if found is not None:
            return found
    return None


def written_spelling(quantity: Mapping[str, Any], concept: MeasuredConcept) -> UnitSpelling | None:
    """How the quantity's unit is meant: its code when it has one, else its unit text."""
    written = quantity.get("code") or quantity.get("unit")
    return concept.spelling(written) if isinstance(written, str) else None


def _converted(quantity: Mapping[str, Any], old: UnitSpelling, new: UnitSpelling) -> JsonObject:
    value = quantity["value"] * old.factor / new.factor
    if new.is_ucum:
        return {"value": value, "unit": new.spelling, "system": UCUM, "code": new.unit}
    return {"value": value, "unit": new.spelling}


def in_unit(resource: Mapping[str, Any], concept: MeasuredConcept, new: UnitSpelling) -> JsonObject:
    """`resource` with its value, and every reference-range bound without a unit of its own (those are
    read in the value's unit), converted to `new` at full precision."""
    quantity = resource["valueQuantity"]
    old = written_spelling(quantity, concept)
    if old is None:
        raise ValueError(f"{resource.get('id')}: unit of valueQuantity is not one the rules understand")
    changed: JsonObject = {**resource, "valueQuantity": _converted(quantity, old, new)}
    ranges = []
    for reference_range in resource.get("referenceRange", []):
        bounds = {
            name: {"value": bound["value"] * old.factor / new.factor}
            for name in ("low", "high")
            if isinstance(bound := reference_range.get(name), Mapping) and set(bound) == {"value"}
        }
        ranges.append({**reference_range, **bounds})
    if ranges:
        changed["referenceRange"] = ranges
    return changed


def _alternatives(entry: Entry, space: RuleSpace) -> tuple[MeasuredConcept, list[UnitSpelling]] | None:
    quantity = entry.resource.get("valueQuantity")
    concept = measured_concept_of(entry.resource, space)
    if (
        concept is None
        or not isinstance(quantity, Mapping)
        or not isinstance(quantity.get("value"), int | float)
    ):
        return None
    old = written_spelling(quantity, concept)
    if old is None:
        return None
    return concept, [s for s in concept.spellings if s != old]


@st.composite
def in_other_units(draw: st.DrawFn, record: PatientRecord, space: RuleSpace | None = None) -> PatientRecord:
    """The record with some lab and assessment values rewritten in another unit the rules understand."""
    rules = space or load_space()
    entries = []
    for entry in record.entries:
        found = _alternatives(entry, rules) if entry.role in ("lab", "assessment") else None
        if found is None or not found[1] or not chance(draw):
            entries.append(entry)
            continue
        concept, spellings = found
        resource = in_unit(entry.resource, concept, pick(draw, spellings))
        entries.append(Entry(role=entry.role, resource=resource))
    return record.with_entries(entries)
