"""Symptoms, red flags and problems: one occurrence per resource, then one fact per concept.

Occurrences keep the whole history (patterns need it); facts keep what is current, with every resource
behind it as evidence, so a card names a conclusion once however many resources support it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from msgspec import Struct

from cds.facts.course import Course
from cds.facts.dates import days_between
from cds.facts.models import (
    Certainty,
    Diagnosis,
    Evidence,
    Fact,
    RedFlag,
    RegionOrUnknown,
    SetAside,
    Symptom,
)
from cds.facts.parameters import FactParameters
from cds.facts.regions import BodySites, Placement
from cds.facts.select import Usable
from cds.terminology import ConceptMatch, Terminology
from cds.terminology.codeable import all_words, codings
from cds.terminology.schema import Region


class Occurrence(Struct, gc=False):
    """One resource recording a symptom, red flag, diagnosis or explaining condition, at one time.

    A msgspec Struct, built in C (a frozen dataclass costs an `object.__setattr__` a field), read but
    never changed once built, except for its evidence: made when first read, since facts and
    patterns cite the same occurrence several times and a history they never cite costs nothing."""

    kind: str
    concept: str
    usable: Usable
    when: dt.datetime | None
    placements: tuple[Placement, ...]
    concept_region: Region | None
    severity_rank: int
    frequency: float | None
    current: bool
    raised_by: str | None = None
    """For a red flag raised by where a symptom is (a fasciculation at the tongue): how."""
    _evidence: Evidence | None = None

    @property
    def certainty(self) -> Certainty:
        return self.usable.certainty

    @property
    def regions(self) -> tuple[Region, ...]:
        """Every region a body site placed it in; the concept's own region when no site did."""
        if self.placements:
            return tuple(dict.fromkeys(p.region for p in self.placements if p.region is not None))
        return (self.concept_region,) if self.concept_region else ()

    @property
    def region(self) -> RegionOrUnknown:
        return self.regions[0] if self.regions else "unknown"

    @property
    def evidence(self) -> Evidence:
        found = self._evidence
        if found is None:
            found = self._evidence = self._cited()
        return found

    def _cited(self) -> Evidence:
        usable = self.usable
        raw = usable.raw
        words = [usable.what]
        if self.raised_by:
            words.append(self.raised_by)
        if self.placements:
            words += [p.words() for p in self.placements]
        elif self.concept_region:
            words.append(f"{self.concept_region} region")
        if usable.certainty == "suspected":
            words.append(f"verification status {usable.verification}: a suspicion, not confirmed")
        if self.severity_rank:
            words.append(f"severity {self.severity_rank}/3")
        if self.frequency is not None:
            words.append(f"frequency {self.frequency:g}")
        return Evidence.of(
            resource_type=raw.resource_type,
            resource_id=raw.id,
            origin=usable.origin,
            date=self.when.date() if self.when else None,
            text=", ".join(words),
        )


def _frequency(resource: Mapping[str, Any]) -> float | None:
    quantity = resource.get("valueQuantity")
    value = quantity.get("value") if isinstance(quantity, Mapping) else resource.get("valueInteger")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def build_occurrences(
    usable: Sequence[Usable],
    terminology: Terminology,
    parameters: FactParameters,
    sites: BodySites,
    now: dt.datetime,
) -> tuple[list[Occurrence], list[SetAside]]:
    records: list[Occurrence] = []
    set_aside: list[SetAside] = []
    for item in usable:
        match = item.match
        if not isinstance(match, ConceptMatch) or match.kind not in parameters.windows:
            continue
        resource = item.raw.resource
        is_condition = item.raw.resource_type == "Condition"
        window = parameters.windows[match.kind]
        current = True
        if not is_condition:
            if item.when is None:
                set_aside.append(SetAside.of(reference=item.reference, what=item.what, reason="has no date"))
                continue
            if days_between(item.when, now) > window:
                current = False
                set_aside.append(
                    SetAside.of(
                        reference=item.reference,
                        what=item.what,
                        reason=f"recorded {item.when.date().isoformat()}, outside the {window}-day window "
                        f"({parameters.finding_windows.windows[match.kind]}); counted only as history",
                    )
                )
        severity_source = resource.get("severity") if is_condition else resource.get("valueCodeableConcept")
        occurrence = Occurrence(
            kind=match.kind,
            concept=match.name,
            usable=item,
            when=item.when,
            placements=sites.place_all(resource.get("bodySite")),
            concept_region=_region(match.region),
            severity_rank=0
            if severity_source is None
            else terminology.severity_rank(codings(severity_source), all_words(severity_source)),
            frequency=None if is_condition else _frequency(resource),
            current=current,
        )
        records.append(occurrence)
        records += _raised(occurrence, sites, terminology)
    return records, set_aside


def _region(name: str | None) -> Region | None:
    """A concept's region as the value sets wrote it (validated as a Region when they loaded)."""
    return cast("Region | None", name)


def _raised(occurrence: Occurrence, sites: BodySites, terminology: Terminology) -> list[Occurrence]:
    """Red flags a symptom is by where it is (NICE NG42: tongue fasciculations)."""
    raised: list[Occurrence] = []
    for placement in occurrence.placements:
        if placement.site is None or occurrence.kind != "symptom":
            continue
        red_flag = sites.site(placement.site).raises.get(occurrence.concept)
        if red_flag is None:
            continue
        label = terminology.label("symptom", occurrence.concept)
        raised.append(
            Occurrence(
                kind="red_flag",
                concept=red_flag,
                usable=occurrence.usable,
                when=occurrence.when,
                placements=(placement,),
                concept_region=None,
                severity_rank=occurrence.severity_rank,
                frequency=occurrence.frequency,
                current=occurrence.current,
                raised_by=f"{label} at the {placement.site.replace('_', ' ')} ({placement.how}): "
                f"{sites.site(placement.site).note}",
            )
        )
    return raised


def _onset(records: Sequence[Occurrence]) -> dt.datetime | None:
    dates = [r.when for r in records if r.when is not None]
    return min(dates) if dates else None


def _latest_rank(records: Sequence[Occurrence]) -> int:
    ranked = [r for r in records if r.severity_rank]
    return (
        max(ranked, key=lambda r: r.when or dt.datetime.min.replace(tzinfo=dt.UTC)).severity_rank
        if ranked
        else 0
    )


Histories = dict[str, dict[str, list[Occurrence]]]
"""Occurrences by kind, then by concept, each concept's oldest first."""


def histories(records: Sequence[Occurrence]) -> Histories:
    """Sorted once for every kind: the sort is stable, so each kind's order is the one sorting that
    kind's records alone gives (sort keys cost a date and two references a record)."""
    grouped: Histories = {}
    for record in sorted(records, key=_order) if len(records) > 1 else records:
        grouped.setdefault(record.kind, {}).setdefault(record.concept, []).append(record)
    return grouped


def _order(record: Occurrence) -> tuple[str, str, str]:
    usable = record.usable
    return (record.when.isoformat() if record.when else "", usable.reference, usable.origin)


def finding_facts(
    grouped: Histories, terminology: Terminology, now: dt.datetime, courses: Mapping[str, Course]
) -> list[Fact]:
    """One fact per current concept; `courses` says how each red flag has run (progressive, context).

    A concept is known when any current resource records it as known, else a suspicion."""
    facts: list[Fact] = []
    for kind in ("symptom", "red_flag", "problem"):
        for concept, history in grouped.get(kind, {}).items():
            current = [r for r in history if r.current]
            if not current:
                continue
            onset = _onset(history)
            days = days_between(onset, now) if onset else 0
            spec = terminology.concepts[kind][concept]
            evidence = (
                (current[0].evidence,)
                if len(current) == 1
                else tuple(dict.fromkeys(r.evidence for r in current))
            )
            common: dict[str, Any] = {
                "id": f"{kind}:{concept}",
                "label": spec.label,
                "evidence": evidence,
                "concept": concept,
            }
            certainty: Certainty = "known" if any(r.certainty == "known" for r in current) else "suspected"
            if kind == "symptom":
                latest = current[-1]
                facts.append(
                    Symptom.of(
                        **common,
                        region=latest.region,
                        severity_rank=_latest_rank(history),
                        days_since_onset=days,
                        source="condition"
                        if any(r.usable.raw.resource_type == "Condition" for r in current)
                        else "observation",
                    )
                )
            elif kind == "red_flag":
                course = courses.get(concept, Course())
                facts.append(
                    RedFlag.of(
                        **{
                            **common,
                            "label": course.label or spec.label,
                            "evidence": evidence + course.evidence,
                        },
                        urgency=spec.urgency or "prompt",
                        progressive=course.progressive is not None,
                        as_context=course.context is not None,
                        days_since_onset=days,
                        certainty=certainty,
                        detail=course.progressive or course.context,
                    )
                )
            else:
                facts.append(
                    Diagnosis.of(
                        **common, group=spec.group or "contributor", advice=spec.advice, certainty=certainty
                    )
                )
    return facts
