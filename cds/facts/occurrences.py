"""Symptoms, red flags and problems: one occurrence per resource, then one fact per concept.

Occurrences keep the whole history (patterns need it); facts keep what is current, with every resource
behind it as evidence, so a card names a conclusion once however many resources support it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from cds.facts.dates import days_between
from cds.facts.models import (
    PROGRESSIVE_SUFFIX,
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
from cds.facts.select import Usable
from cds.terminology import ConceptMatch, Terminology
from cds.terminology.codeable import all_words, codings

WINDOW_PARAMETER = {
    "symptom": "symptom_window_days",
    "red_flag": "red_flag_window_days",
    "problem": "symptom_window_days",
}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One resource recording a symptom, red flag or diagnosis, at one time."""

    kind: str
    concept: str
    usable: Usable
    when: dt.datetime | None
    region: RegionOrUnknown
    severity_rank: int
    frequency: float | None
    current: bool

    @property
    def certainty(self) -> Certainty:
        return self.usable.certainty

    @property
    def evidence(self) -> Evidence:
        raw = self.usable.raw
        words = [self.usable.what]
        if self.region != "unknown":
            words.append(f"{self.region} region")
        if self.usable.certainty == "suspected":
            words.append(f"verification status {self.usable.verification}: a suspicion, not confirmed")
        if self.severity_rank:
            words.append(f"severity {self.severity_rank}/3")
        if self.frequency is not None:
            words.append(f"frequency {self.frequency:g}")
        return Evidence(
            resource_type=raw.resource_type,
            resource_id=raw.id,
            origin=raw.origin,
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
    usable: Sequence[Usable], terminology: Terminology, parameters: FactParameters, now: dt.datetime
) -> tuple[list[Occurrence], list[SetAside]]:
    records: list[Occurrence] = []
    set_aside: list[SetAside] = []
    for item in usable:
        match = item.match
        if not isinstance(match, ConceptMatch) or match.kind not in WINDOW_PARAMETER:
            continue
        resource = item.raw.resource
        is_condition = resource["resourceType"] == "Condition"
        window = int(getattr(parameters, WINDOW_PARAMETER[match.kind]))
        current = True
        if not is_condition:
            if item.when is None:
                set_aside.append(SetAside(reference=item.reference, what=item.what, reason="has no date"))
                continue
            if days_between(item.when, now) > window:
                current = False
                set_aside.append(
                    SetAside(
                        reference=item.reference,
                        what=item.what,
                        reason=f"recorded {item.when.date().isoformat()}, outside the {window}-day window "
                        f"({WINDOW_PARAMETER[match.kind]}); counted only as history",
                    )
                )
        site_words = all_words(resource.get("bodySite"))
        placed = match.region or (terminology.region_of(site_words) if site_words else None)
        region = cast(RegionOrUnknown, placed or "unknown")
        severity_source = resource.get("severity") if is_condition else resource.get("valueCodeableConcept")
        records.append(
            Occurrence(
                kind=match.kind,
                concept=match.name,
                usable=item,
                when=item.when,
                region=region,
                severity_rank=terminology.severity_rank(codings(severity_source), all_words(severity_source)),
                frequency=None if is_condition else _frequency(resource),
                current=current,
            )
        )
    return records, set_aside


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


def by_concept(records: Sequence[Occurrence], kind: str) -> dict[str, list[Occurrence]]:
    grouped: dict[str, list[Occurrence]] = {}
    for record in sorted(records, key=_order):
        if record.kind == kind:
            grouped.setdefault(record.concept, []).append(record)
    return grouped


def _order(record: Occurrence) -> tuple[str, str, str]:
    return (record.when.isoformat() if record.when else "", record.usable.reference, record.usable.raw.origin)


def finding_facts(
    records: Sequence[Occurrence], terminology: Terminology, now: dt.datetime, progressive: set[str]
) -> list[Fact]:
    """One fact per current concept; `progressive` names the red flags patterns found worsening or new.

    A concept is known when any current resource records it as known, else a suspicion."""
    facts: list[Fact] = []
    for kind in ("symptom", "red_flag", "problem"):
        for concept, history in by_concept(records, kind).items():
            current = [r for r in history if r.current]
            if not current:
                continue
            onset = _onset(history)
            days = days_between(onset, now) if onset else 0
            spec = terminology.concepts[kind][concept]
            common: dict[str, Any] = {
                "id": f"{kind}:{concept}",
                "label": spec.label,
                "evidence": tuple(r.evidence for r in current),
                "concept": concept,
            }
            certainty: Certainty = "known" if any(r.certainty == "known" for r in current) else "suspected"
            if kind == "symptom":
                latest = current[-1]
                facts.append(
                    Symptom(
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
                is_progressive = concept in progressive
                facts.append(
                    RedFlag(
                        **{**common, "label": spec.label + (PROGRESSIVE_SUFFIX if is_progressive else "")},
                        urgency=spec.urgency or "prompt",
                        progressive=is_progressive,
                        days_since_onset=days,
                        certainty=certainty,
                    )
                )
            else:
                facts.append(
                    Diagnosis(
                        **common, group=spec.group or "contributor", advice=spec.advice, certainty=certainty
                    )
                )
    return facts
