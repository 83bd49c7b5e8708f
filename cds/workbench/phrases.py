"""One line of a test case's record, read the way an informaticist writes it.

    line     := head ("," modifier)*
    head     := NAME [VALUE [UNIT]] [TIME]
    TIME     := N day(s)|week(s)|month(s)|year(s) ago | today | on YYYY-MM-DD
    modifier := TIME | onset TIME | recorded TIME | body site WORDS | mild | moderate | severe
              | refuted | entered in error | resolved | other patient | range LOW-HIGH [UNIT]
              | flagged CODE (L, LL, LU, <, N, H, HH, HU, >, A, AA, NEG, POS) | unit only | frequency N
              | code CODE | as observation
              | as condition | active | stopped | completed | on hold | cancelled

NAME is anything the rules know (see `Lexicon`). A month is 30 days and a year 365, so a case means the
same thing whatever day it runs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Literal

from cds.frozen import Frozen
from cds.workbench.lexicon import FINDING_KINDS, MEASURED_KINDS, AmbiguousName, Lexicon, Term, UnknownCode

ResourceType = Literal["Condition", "Observation", "MedicationRequest"]
Interpretation = Literal["L", "LL", "LU", "<", "N", "NEG", "H", "HH", "HU", ">", "A", "AA", "POS"]
INTERPRETATIONS: tuple[str, ...] = ("L", "LL", "LU", "<", "N", "NEG", "H", "HH", "HU", ">", "A", "AA", "POS")
MEDICATION_STATUSES = {
    "active": "active",
    "stopped": "stopped",
    "completed": "completed",
    "on hold": "on-hold",
    "cancelled": "cancelled",
}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUMBER = r"-?\d+(?:\.\d+)?"
_TIME_WORDS = (
    r"(?:(?:onset|recorded)\s+)?(?:\d+\s+(?:day|week|month|year)s?\s+ago|today|on\s+\d{4}-\d{2}-\d{2})"
)
_TIME = re.compile(
    r"(?:(?P<field>onset|recorded)\s+)?(?:(?P<n>\d+)\s+(?P<unit>day|week|month|year)s?\s+ago"
    r"|today|on\s+(?P<date>\d{4}-\d{2}-\d{2}))",
    re.I,
)
_TIME_AT_END = re.compile(rf"(?:^|\s+)(?P<time>{_TIME_WORDS})$", re.I)
_VALUE = re.compile(rf"(?P<value>{_NUMBER})(?:\s+(?P<unit>\S.*))?")
_RANGE = re.compile(rf"range\s+(?P<low>{_NUMBER})\s*-\s*(?P<high>{_NUMBER})(?:\s+(?P<unit>\S+))?", re.I)
_FLAGGED = re.compile(r"flagged\s+(?P<code>\S+)", re.I)
_FREQUENCY = re.compile(rf"frequency\s+(?P<n>{_NUMBER})", re.I)
_SITE = re.compile(r"(?:body\s+)?site\s+(?P<site>\S.*)", re.I)
_CODE = re.compile(r"code\s+(?P<code>\S+)", re.I)
_MODIFIERS_EXPECTED = (
    "a time (onset 10 days ago), body site ..., a severity (mild, moderate, severe), refuted, "
    "entered in error, resolved, other patient, range LOW-HIGH, flagged L (LL, LU, <, N, H, HH, HU, >, "
    "A, AA, NEG, POS), unit only, "
    "frequency N, code ..., as observation, as condition, or a medication status (active, stopped, "
    "completed, on hold, cancelled)"
)


class PhraseError(ValueError):
    """Says what was found and what was expected; the caller adds file, line and phrase."""


class When(Frozen):
    days_ago: int = 0
    date: dt.date | None = None
    field: Literal["onset", "recorded"] | None = None

    def moment(self, now: dt.datetime) -> dt.datetime:
        if self.date is not None:
            return dt.datetime.combine(self.date, dt.time(), tzinfo=dt.UTC)
        return now - dt.timedelta(days=self.days_ago)

    def words(self) -> str:
        return f"on {self.date.isoformat()}" if self.date else f"{self.days_ago} days ago"


class ReferenceRange(Frozen):
    low: float
    high: float
    unit: str | None = None


class RecordItem(Frozen):
    """One line of a case's record, understood; `builder` turns it into one FHIR resource."""

    phrase: str
    term: Term
    resource_type: ResourceType
    when: When = When()
    value: float | None = None
    unit: str | None = None
    unit_only: bool = False
    body_site: str | None = None
    severity: str | None = None
    frequency: float | None = None
    verification: Literal["refuted", "entered-in-error"] | None = None
    clinical: Literal["resolved"] | None = None
    status: str | None = None
    other_patient: bool = False
    reference_range: ReferenceRange | None = None
    interpretation: Interpretation | None = None


def parse_phrase(phrase: str, lexicon: Lexicon) -> RecordItem:
    """Raises PhraseError saying what was expected."""
    head, *modifiers = [part.strip() for part in phrase.split(",")]
    term, rest = _term(head, lexicon)
    fields: dict[str, Any] = {"phrase": phrase, "term": term}
    time = _TIME_AT_END.search(rest)
    if time:
        fields["when"] = _when(time.group("time"))
        rest = rest[: time.start()].strip()
    if rest:
        value = _VALUE.fullmatch(rest)
        if value is None:
            raise PhraseError(
                f"after {term.label!r} expected a value with its unit (e.g. 1.3 mg/dL) or a time "
                f"(e.g. 5 days ago); found {rest!r}"
            )
        fields["value"] = float(value.group("value"))
        fields["unit"] = value.group("unit")
    as_observation: bool | None = None
    for modifier in modifiers:
        as_observation = _modifier(modifier, fields, lexicon, as_observation)
    fields["resource_type"] = _resource_type(fields["term"], as_observation)
    return _checked(RecordItem.model_validate(fields))


def _term(head: str, lexicon: Lexicon) -> tuple[Term, str]:
    if not head:
        raise PhraseError("expected a concept first, e.g. 'cramp' or 'magnesium 1.3 mg/dL 5 days ago'")
    try:
        found = lexicon.match(head)
    except AmbiguousName as exc:
        raise PhraseError(f"{exc}; use a code display or add `code ...`") from None
    if found is None:
        close = lexicon.suggestions(head)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise PhraseError(
            "does not start with anything the rules know (a symptom, red flag, diagnosis, lab, "
            f"assessment or medication ingredient from the value sets){hint}"
        )
    return found


def _when(text: str) -> When:
    found = _TIME.fullmatch(" ".join(text.split()))
    if found is None:
        raise PhraseError(f"{text!r} is not a time (expected e.g. '5 days ago', 'today' or 'on 2026-11-20')")
    field = found.group("field")
    fields: dict[str, Any] = {"field": field.lower() if field else None}
    if found.group("n"):
        fields["days_ago"] = int(found.group("n")) * _UNIT_DAYS[found.group("unit").lower()]
    elif found.group("date"):
        try:
            fields["date"] = dt.date.fromisoformat(found.group("date"))
        except ValueError:
            raise PhraseError(f"{found.group('date')!r} is not a date (expected YYYY-MM-DD)") from None
    return When.model_validate(fields)


def _set_once(fields: dict[str, Any], key: str, value: object, modifier: str) -> None:
    if key in fields:
        raise PhraseError(f"{modifier!r} says {key.replace('_', ' ')} a second time")
    fields[key] = value


def _modifier(
    modifier: str, fields: dict[str, Any], lexicon: Lexicon, as_observation: bool | None
) -> bool | None:
    """Adds one modifier to `fields`; returns whether the line asks for an Observation (None: unsaid)."""
    text = " ".join(modifier.split())
    lowered = text.lower()
    if not lowered:
        raise PhraseError("an empty part between commas")
    if _TIME.fullmatch(lowered):
        if "when" in fields:
            raise PhraseError(f"{modifier!r} gives a second time; one line describes one resource")
        fields["when"] = _when(lowered)
    elif lowered in ("as observation", "as condition"):
        return lowered == "as observation"
    elif lowered in ("refuted", "entered in error"):
        _set_once(fields, "verification", lowered.replace(" ", "-"), modifier)
    elif lowered == "resolved":
        _set_once(fields, "clinical", "resolved", modifier)
    elif lowered in ("other patient", "unit only"):
        fields[lowered.replace(" ", "_")] = True
    elif lowered in MEDICATION_STATUSES:
        _set_once(fields, "status", MEDICATION_STATUSES[lowered], modifier)
    elif found := _SITE.fullmatch(text):
        _set_once(fields, "body_site", found.group("site"), modifier)
    elif found := _RANGE.fullmatch(text):
        low, high = float(found.group("low")), float(found.group("high"))
        if low > high:
            raise PhraseError(f"{modifier!r}: the low end of a range comes first")
        _set_once(
            fields, "reference_range", ReferenceRange(low=low, high=high, unit=found.group("unit")), modifier
        )
    elif found := _FLAGGED.fullmatch(text):
        code = found.group("code").upper()
        if code not in INTERPRETATIONS:
            raise PhraseError(f"{modifier!r}: expected flagged {' or '.join(INTERPRETATIONS)}")
        _set_once(fields, "interpretation", code, modifier)
    elif found := _FREQUENCY.fullmatch(text):
        _set_once(fields, "frequency", float(found.group("n")), modifier)
    elif found := _CODE.fullmatch(text):
        try:
            fields["term"] = lexicon.with_code(fields["term"], found.group("code"))
        except UnknownCode as exc:
            raise PhraseError(str(exc)) from None
    elif " " not in lowered and (level := lexicon.severity(lowered)):
        _set_once(fields, "severity", level, modifier)
    else:
        raise PhraseError(f"{modifier!r} is not a modifier; expected {_MODIFIERS_EXPECTED}")
    return as_observation


def _resource_type(term: Term, as_observation: bool | None) -> ResourceType:
    if term.kind == "medication":
        if as_observation is not None:
            raise PhraseError(
                "a medication is written as a MedicationRequest; drop 'as observation/condition'"
            )
        return "MedicationRequest"
    if term.kind in MEASURED_KINDS:
        if as_observation is False:
            raise PhraseError(f"{term.label} is a measurement, always an Observation")
        return "Observation"
    return "Observation" if as_observation else "Condition"


def _checked(item: RecordItem) -> RecordItem:
    """Refuses modifiers that mean nothing for this kind of resource, rather than ignoring them."""
    kind, label = item.term.kind, item.term.label
    measured = kind in MEASURED_KINDS
    if measured and item.value is None:
        raise PhraseError(f"{label} needs a value, e.g. '{label} 1.3 mg/dL 5 days ago'")
    if not measured and item.value is not None:
        raise PhraseError(f"{label} takes no value (for how often a symptom occurs write 'frequency N')")
    if not measured:
        _refuse({"range": item.reference_range, "flagged": item.interpretation}, f"a lab value, not {label}")
    if item.unit_only and item.unit is None:
        raise PhraseError("'unit only' needs a unit after the value")
    if kind not in FINDING_KINDS:
        given = {"body site": item.body_site, "severity": item.severity, "frequency": item.frequency}
        _refuse(given, f"a symptom, red flag or diagnosis, not {label}")
    if item.frequency is not None and item.resource_type != "Observation":
        raise PhraseError("'frequency N' is an Observation value; add 'as observation'")
    if item.resource_type != "Condition":
        given = {"refuted": item.verification == "refuted" or None, "resolved": item.clinical}
        _refuse(given, f"a Condition; {label} here is an {item.resource_type}")
    if item.status is not None and kind != "medication":
        raise PhraseError(f"{item.status!r} is a medication status; {label} is not a medication")
    if item.when.field is not None and item.resource_type != "Condition":
        raise PhraseError(f"'{item.when.field}' dates a Condition; write just '{item.when.words()}' here")
    return item


def _refuse(given: Mapping[str, object], applies_to: str) -> None:
    for word, value in given.items():
        if value is not None:
            raise PhraseError(f"{word!r} applies to {applies_to}")
