"""How each red flag has run since the symptom began: progressive, chronic, explained, or neither.

"Progressive" needs evidence: rising severity or frequency, a recorded worsening, or a red flag first
recorded at least `progression_min_days` after the symptom began. A red flag that did not progress is
context, not a new motor neuron sign, when it was recorded long before the symptom
(`chronic_red_flag_before_years`) and is stable since, or when a known condition on the chart explains
it (`valuesets/explaining_conditions.yaml`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from msgspec import Struct

from cds.facts.dates import days_between
from cds.facts.models import Evidence
from cds.facts.parameters import FactParameters
from cds.terminology import Terminology
from cds.terminology.presence import PresenceVocabulary

if TYPE_CHECKING:
    from cds.facts.occurrences import Occurrence


class Course(Struct, frozen=True, gc=False):
    progressive: str | None = None
    """What progressed and when, in words; None when nothing shows progression."""
    context: str | None = None
    """Why the red flag is context (chronic and stable, or explained); None when it is not."""
    evidence: tuple[Evidence, ...] = ()
    """Resources behind the context beyond the red flag's own (the explaining condition)."""
    label: str | None = None
    """The red flag's label as a card names it, when progression changes it ("weakness (progressive)")."""


def _day(when: dt.datetime | None) -> str:
    return when.date().isoformat() if when else "an undated entry"


def _rising_severity(history: Sequence[Occurrence], levels: Mapping[int, str]) -> str | None:
    ranked = [r for r in history if r.severity_rank]
    if len(ranked) >= 2 and ranked[-1].severity_rank > ranked[0].severity_rank:
        first, last = ranked[0], ranked[-1]
        return (
            f"{levels.get(first.severity_rank, first.severity_rank)} on {_day(first.when)} -> "
            f"{levels.get(last.severity_rank, last.severity_rank)} on {_day(last.when)}"
        )
    counted = [r for r in history if r.frequency is not None]
    if len(counted) >= 2 and (counted[-1].frequency or 0) > (counted[0].frequency or 0):
        return (
            f"frequency {counted[0].frequency:g} on {_day(counted[0].when)} -> "
            f"{counted[-1].frequency:g} on {_day(counted[-1].when)}"
        )
    return None


@functools.lru_cache(maxsize=16)
def _worsening_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Built once per word list (one per rules version), not once per call."""
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


class WorseningWords:
    """Finds the words of a note, value or text saying a finding got worse ("worsening weakness"),
    unless the terminology's negation vocabulary negates them ("no worsening", "not worse")."""

    def __init__(self, words: Sequence[str], presence: PresenceVocabulary) -> None:
        self._pattern = _worsening_pattern(tuple(words))
        self._presence = presence

    def recorded(self, occurrence: Occurrence) -> str | None:
        if self._pattern is None:
            return None
        resource = occurrence.usable.raw.resource
        texts = [n.get("text") for n in resource.get("note") or [] if isinstance(n, Mapping)]
        texts += [resource.get("valueString"), (resource.get("code") or {}).get("text")]
        for text in texts:
            if isinstance(text, str):
                for found in self._pattern.finditer(text):
                    if self._presence.negated(text, found.start(), found.end()) is None:
                        return found.group(0)
        return None


def red_flag_courses(
    occurrences: Sequence[Occurrence],
    terminology: Terminology,
    parameters: FactParameters,
    symptom_onset: dt.datetime | None,
) -> dict[str, Course]:
    flags: dict[str, list[Occurrence]] = {}
    red_flags = (o for o in occurrences if o.kind == "red_flag")
    for occurrence in sorted(red_flags, key=lambda o: (_day(o.when), o.usable.reference)):
        flags.setdefault(occurrence.concept, []).append(occurrence)
    courses: dict[str, Course] = {}
    if not flags:
        return courses
    worsening = WorseningWords(parameters.course.worsening_words, terminology.presence)
    explainers = [
        o for o in occurrences if o.kind == "explaining_condition" and o.current and o.certainty == "known"
    ]
    for concept, history in flags.items():
        if not any(o.current for o in history):
            continue
        label = terminology.label("red_flag", concept)
        progressed = _progression(
            history, label, terminology.severity_names, worsening, parameters, symptom_onset
        )
        if progressed:
            courses[concept] = Course(progressive=progressed, label=parameters.wording.progressive(label))
            continue
        courses[concept] = _context(
            concept, history, label, explainers, terminology, parameters, symptom_onset
        )
    return courses


def _progression(
    history: Sequence[Occurrence],
    label: str,
    levels: Mapping[int, str],
    worsening: WorseningWords,
    parameters: FactParameters,
    symptom_onset: dt.datetime | None,
) -> str | None:
    rising = _rising_severity(history, levels)
    if rising:
        return f"{label} {rising}"
    for occurrence in history:
        word = worsening.recorded(occurrence)
        if word:
            return f"{label} recorded as {word!r} on {_day(occurrence.when)} ({occurrence.usable.reference})"
    first = min((o.when for o in history if o.when), default=None)
    if first is not None and symptom_onset is not None:
        gap = (first - symptom_onset).days
        if gap >= parameters.progression_min_days:
            return (
                f"{label} first recorded {_day(first)}, {gap} days after the symptom began "
                f"({_day(symptom_onset)}; progression_min_days is {parameters.progression_min_days})"
            )
    return None


def _context(
    concept: str,
    history: Sequence[Occurrence],
    label: str,
    explainers: Sequence[Occurrence],
    terminology: Terminology,
    parameters: FactParameters,
    symptom_onset: dt.datetime | None,
) -> Course:
    for explainer in explainers:
        spec = terminology.concepts["explaining_condition"][explainer.concept]
        if concept in spec.explains:
            return Course(
                context=f"{label} has a recorded cause: {spec.label} ({explainer.usable.reference}, "
                f"{_day(explainer.when)}), which explains it",
                evidence=(explainer.evidence,),
            )
    first = min((o.when for o in history if o.when), default=None)
    if first is not None and symptom_onset is not None:
        before = days_between(first, symptom_onset)
        if first < symptom_onset and before >= parameters.chronic_red_flag_before_days:
            years = parameters.chronic_red_flag_before_years
            return Course(
                context=f"{label} first recorded {_day(first)}, {before} days before the symptom began, and "
                f"stable since (chronic_red_flag_before_years is {years:g})"
            )
    return Course()
