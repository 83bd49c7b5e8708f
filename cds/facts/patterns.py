"""Patterns worked out from the history: persistent, worsening, widespread, progressive red flags.

These compare facts with each other (dates, severities, regions). durable-rules crashes on relational
joins between facts, so this is done here and the engine sees the result as a `pattern` fact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cds.facts.course import Course, red_flag_courses
from cds.facts.dates import days_between
from cds.facts.models import HistoryPattern
from cds.facts.occurrences import Histories, Occurrence
from cds.facts.parameters import FactParameters
from cds.facts.regions import BodySites
from cds.terminology import Terminology


def _rising(values: Sequence[float]) -> bool:
    return len(values) >= 2 and values[-1] > values[0]


def _worsening(history: Sequence[Occurrence], top_rank: int) -> str | None:
    ranks = [float(r.severity_rank) for r in history if r.severity_rank]
    if _rising(ranks):
        return f"severity rose from {ranks[0]:g} to {ranks[-1]:g} (of {top_rank})"
    frequencies = [r.frequency for r in history if r.frequency is not None]
    if _rising(frequencies):
        return f"frequency rose from {frequencies[0]:g} to {frequencies[-1]:g}"
    return None


def _first_date(records: Sequence[Occurrence]) -> dt.datetime | None:
    dates = [r.when for r in records if r.when is not None]
    return min(dates) if dates else None


def find_patterns(
    records: Sequence[Occurrence],
    grouped: Histories,
    terminology: Terminology,
    parameters: FactParameters,
    sites: BodySites,
    now: dt.datetime,
) -> tuple[list[HistoryPattern], dict[str, Course]]:
    """The pattern facts, and how each red flag has run (its fact says progressive or context);
    `grouped` is `histories(records)`."""
    symptoms = grouped.get("symptom", {})
    current = {concept: history for concept, history in symptoms.items() if any(r.current for r in history)}
    all_symptom_records = [r for history in current.values() for r in history]
    onset = _first_date(all_symptom_records)
    courses = red_flag_courses(records, terminology, parameters, onset) if "red_flag" in grouped else {}
    if not current:
        return [], courses
    patterns: list[HistoryPattern] = []
    weeks = parameters.persistent_after_weeks
    if onset is not None and days_between(onset, now) > weeks * 7:
        first = min((r for r in all_symptom_records if r.when), key=lambda r: r.when or now)
        patterns.append(
            HistoryPattern.of(
                id="pattern:persistent",
                label=parameters.wording.patterns["persistent"],
                concept="persistent",
                evidence=(first.evidence,),
                detail=f"first recorded {onset.date().isoformat()}, "
                f"{days_between(onset, now) // 7} weeks ago "
                f"(more than {weeks} weeks: persistent_after_weeks)",
            )
        )

    for concept, history in current.items():
        change = _worsening(history, terminology.top_severity_rank) if len(history) > 1 else None
        if change:
            patterns.append(
                HistoryPattern.of(
                    id=f"pattern:worsening:{concept}",
                    label=parameters.wording.patterns["worsening"],
                    concept="worsening",
                    evidence=tuple(r.evidence for r in history if r.severity_rank or r.frequency is not None),
                    detail=f"{terminology.label('symptom', concept)}: {change}",
                )
            )
    widespread = _widespread(current, sites, parameters)
    if widespread:
        patterns.append(widespread)
    for concept, course in sorted(courses.items()):
        if course.progressive:
            patterns.append(
                HistoryPattern.of(
                    id=f"pattern:progressive_red_flag:{concept}",
                    label=parameters.wording.patterns["progressive_red_flag"],
                    concept="progressive_red_flag",
                    evidence=tuple(
                        r.evidence for r in records if r.kind == "red_flag" and r.concept == concept
                    ),
                    detail=course.progressive,
                )
            )
    return patterns, courses


def _widespread(
    current: dict[str, list[Occurrence]], sites: BodySites, parameters: FactParameters
) -> HistoryPattern | None:
    """Regions over every body site of every current occurrence of the symptoms counted for it."""
    counted = [
        r for concept in sites.table.widespread_symptoms for r in current.get(concept, []) if r.current
    ]
    if not counted:
        return None
    regions = sorted(
        {p.region for r in counted for p in r.placements if p.region and p.counts_toward_widespread}
    )
    regions = sorted(
        set(regions) | {r.concept_region for r in counted if not r.placements and r.concept_region}
    )
    minimum = parameters.widespread_min_regions
    if len(regions) < minimum:
        return None
    uncounted = [p for r in counted for p in r.placements if not p.counts_toward_widespread]
    left_out = sorted({p.how for p in uncounted})
    why = sorted({sites.site(p.site).note for p in uncounted if p.site})
    words = f"fasciculations in {len(regions)} regions ({', '.join(regions)}); "
    if left_out:
        words += f"not counted: {', '.join(left_out)}" + (f" ({'; '.join(why)})" if why else "") + "; "
    return HistoryPattern.of(
        id="pattern:widespread_fasciculation",
        label=parameters.wording.patterns["widespread_fasciculation"],
        concept="widespread_fasciculation",
        evidence=tuple(r.evidence for r in counted if r.regions),
        detail=words + f"widespread_min_regions is {minimum} (a rule-author convention)",
    )
