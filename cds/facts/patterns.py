"""Patterns worked out from the history: persistent, worsening, widespread, progressive red flags.

These compare facts with each other (dates, severities, regions). durable-rules crashes on relational
joins between facts, so this is done here and the engine sees the result as a `pattern` fact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cds.facts.dates import days_between
from cds.facts.models import PATTERN_LABELS, HistoryPattern
from cds.facts.occurrences import Occurrence, by_concept
from cds.facts.parameters import FactParameters
from cds.terminology import Terminology


def _rising(values: Sequence[float]) -> bool:
    return len(values) >= 2 and values[-1] > values[0]


def _worsening(history: Sequence[Occurrence]) -> str | None:
    ranks = [float(r.severity_rank) for r in history if r.severity_rank]
    if _rising(ranks):
        return f"severity rose from {ranks[0]:g} to {ranks[-1]:g} (of 3)"
    frequencies = [r.frequency for r in history if r.frequency is not None]
    if _rising(frequencies):
        return f"frequency rose from {frequencies[0]:g} to {frequencies[-1]:g}"
    return None


def _first_date(records: Sequence[Occurrence]) -> dt.datetime | None:
    dates = [r.when for r in records if r.when is not None]
    return min(dates) if dates else None


def find_patterns(
    records: Sequence[Occurrence], terminology: Terminology, parameters: FactParameters, now: dt.datetime
) -> tuple[list[HistoryPattern], set[str]]:
    """The pattern facts, and the red-flag concepts found progressive (their facts are marked)."""
    symptoms = by_concept(records, "symptom")
    current = {concept: history for concept, history in symptoms.items() if any(r.current for r in history)}
    if not current:
        return [], set()
    patterns: list[HistoryPattern] = []
    all_symptom_records = [r for history in current.values() for r in history]

    onset = _first_date(all_symptom_records)
    weeks = parameters.persistent_after_weeks
    if onset is not None and days_between(onset, now) > weeks * 7:
        first = min((r for r in all_symptom_records if r.when), key=lambda r: r.when or now)
        patterns.append(
            HistoryPattern(
                id="pattern:persistent",
                label=PATTERN_LABELS["persistent"],
                concept="persistent",
                evidence=(first.evidence,),
                detail=f"first recorded {onset.date().isoformat()}, "
                f"{days_between(onset, now) // 7} weeks ago "
                f"(more than {weeks} weeks: persistent_after_weeks)",
            )
        )

    for concept, history in current.items():
        change = _worsening(history)
        if change:
            patterns.append(
                HistoryPattern(
                    id=f"pattern:worsening:{concept}",
                    label=PATTERN_LABELS["worsening"],
                    concept="worsening",
                    evidence=tuple(r.evidence for r in history if r.severity_rank or r.frequency is not None),
                    detail=f"{terminology.label('symptom', concept)}: {change}",
                )
            )

    fasciculations = [r for r in current.get("fasciculation", []) if r.current and r.region != "unknown"]
    regions = sorted({r.region for r in fasciculations})
    minimum = parameters.widespread_min_regions
    if len(regions) >= minimum:
        patterns.append(
            HistoryPattern(
                id="pattern:widespread_fasciculation",
                label=PATTERN_LABELS["widespread_fasciculation"],
                concept="widespread_fasciculation",
                evidence=tuple(r.evidence for r in fasciculations),
                detail=f"fasciculations in {len(regions)} regions ({', '.join(regions)}); "
                f"widespread_min_regions is {minimum} (a rule-author convention)",
            )
        )

    progressive: set[str] = set()
    for concept, history in by_concept(records, "red_flag").items():
        if not any(r.current for r in history):
            continue
        change = _worsening(history)
        flag_onset = _first_date(history)
        if change is None and onset is not None and flag_onset is not None and flag_onset > onset:
            change = f"new since the symptom began (first recorded {flag_onset.date().isoformat()})"
        if change:
            progressive.add(concept)
            patterns.append(
                HistoryPattern(
                    id=f"pattern:progressive_red_flag:{concept}",
                    label=PATTERN_LABELS["progressive_red_flag"],
                    concept="progressive_red_flag",
                    evidence=tuple(r.evidence for r in history if r.current),
                    detail=f"{terminology.label('red_flag', concept)}: {change}",
                )
            )
    return patterns, progressive
