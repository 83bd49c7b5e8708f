"""Everything the fact layer may be told, typed: windows and thresholds, and the reading policies.

The rulebook builds one `FactParameters` from `rules/parameters.yaml` and the policy value sets
(certainty, lab interpretation, lab reading); the fact layer reads nothing else of the rules. So facts
need no `Rulebook`, a test can build parameters directly, and every clinical choice the fact layer
makes (which verification statuses count, which analytes are electrolytes, the albumin constants) is
data an informaticist can read and change.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cds.facts.models import PatternConcept
from cds.frozen import Frozen
from cds.terminology.valuesets import BodySiteFile

CodeStatus = Literal["confirmed", "repo-only", "unconfirmed"]
FINDING_KINDS = ("symptom", "red_flag", "problem", "explaining_condition")
Days = Annotated[int, Field(ge=0)]
NO_STATUS = "none"
"""How a certainty policy names a Condition written without a verificationStatus."""


class CertaintyRule(Frozen):
    """Which Condition.verificationStatus codes make a finding known, and which set it aside.

    Any other status (provisional, differential, unconfirmed, a code nobody listed) counts as a
    suspicion: never dropped, never taken for a known diagnosis."""

    known: list[str]
    set_aside: list[str]

    @model_validator(mode="after")
    def _disjoint(self) -> CertaintyRule:
        both = sorted(set(self.known) & set(self.set_aside))
        if both:
            raise ValueError(f"a status cannot be both known and set aside: {', '.join(both)}")
        return self

    def reading(self, status: str | None) -> Literal["known", "suspected", "set_aside"]:
        code = status or NO_STATUS
        if code in self.set_aside:
            return "set_aside"
        return "known" if code in self.known else "suspected"


class CertaintyFile(Frozen):
    kind: Literal["certainty"]
    system: str
    kinds: dict[str, CertaintyRule]

    @model_validator(mode="after")
    def _every_kind(self) -> CertaintyFile:
        missing = [k for k in FINDING_KINDS if k not in self.kinds]
        unknown = [k for k in self.kinds if k not in FINDING_KINDS]
        if missing or unknown:
            raise ValueError(
                f"kinds needs exactly one rule for each of {', '.join(FINDING_KINDS)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(unknown)}" if unknown else "")
            )
        return self

    def reading(self, kind: str, status: str | None) -> Literal["known", "suspected", "set_aside"]:
        """How a Condition of this fact kind with this verification status counts (known for kinds
        the policy does not cover, such as labs)."""
        rule = self.kinds.get(kind)
        return rule.reading(status) if rule is not None else "known"


LabFlagReading = Literal["low", "critical_low", "normal", "high", "critical_high", "read_value"]


class InterpretationCode(Frozen):
    display: Annotated[str, Field(min_length=1)]
    flag: LabFlagReading
    status: CodeStatus


class InterpretationFile(Frozen):
    """Observation.interpretation codes and what each says about a lab value (`read_value`: abnormal
    without a direction, so the value is compared with the lab's range or the default threshold)."""

    kind: Literal["interpretation"]
    systems: list[str]
    codes: dict[str, InterpretationCode]


class LabReadingFile(Frozen):
    kind: Literal["lab_reading"]
    electrolytes: Annotated[list[str], Field(min_length=1)]
    """Analytes whose result within its lookback counts as "electrolytes checked"."""
    lookback_parameters: dict[str, str] = Field(default_factory=dict)
    """Analyte -> the parameter holding its lookback window (default: lab_lookback_days)."""
    precedence: dict[str, list[str]] = Field(default_factory=dict)
    """Analyte -> analytes it sets aside when both have a result within their lookback."""
    correction_analyte: str
    """The analyte that corrects the labs flagged `albumin_correction` in labs.yaml (albumin), with
    albumin_reference_g_dl and albumin_correction_factor: corrected = measured + factor x (reference -
    albumin)."""


class CourseFile(Frozen):
    """Words that record a finding getting worse; the terminology's negation vocabulary says when
    they are negated."""

    kind: Literal["course"]
    worsening_words: list[Annotated[str, Field(min_length=1)]]


PATTERN_CONCEPTS: tuple[str, ...] = typing.get_args(PatternConcept)


def _placeholders(template: str) -> set[str]:
    return set(re.findall(r"\{([^{}]*)\}", template))


def _require_each(what: str, expected: Iterable[str], given: Iterable[str]) -> None:
    expected, present = list(expected), set(given)
    missing = [name for name in expected if name not in present]
    if missing:
        raise ValueError(f"{what} for each of {', '.join(expected)}; missing {', '.join(missing)}")


StatusResource = Literal["Observation", "Condition", "MedicationRequest", "MedicationStatement"]
STATUS_ELEMENTS: dict[str, str] = {
    "Observation": "status",
    "Condition": "clinicalStatus",
    "MedicationRequest": "status",
    "MedicationStatement": "status",
}
"""The element whose code says whether a resource is current data (a code, or a CodeableConcept)."""


class StatusCode(Frozen):
    display: Annotated[str, Field(min_length=1)]
    counts: bool
    """True: a resource with this status is current clinical data; False: it is set aside."""
    status: CodeStatus
    source: Annotated[str, Field(min_length=1)]


class StatusPolicy(Frozen):
    """The codes of one resource type's status element, and which of them let the resource count."""

    system: Annotated[str, Field(min_length=1)]
    codes: Annotated[dict[str, StatusCode], Field(min_length=1)]
    unlisted: Literal["counts", "set_aside"]
    """What a status not listed in `codes` (or no status at all) does."""
    reason: Annotated[str, Field(min_length=1)]
    """Why a resource is set aside, as --explain and the card say it; `{code}` is the status."""

    @field_validator("reason")
    @classmethod
    def _names_the_code(cls, reason: str) -> str:
        placeholders = _placeholders(reason)
        if placeholders != {"code"}:
            found = ", ".join(sorted(placeholders)) or "none"
            raise ValueError(f"must name the status as {{code}} and nothing else; found: {found}")
        return reason

    def set_aside_because(self, code: str | None) -> str | None:
        entry = self.codes.get(code) if code is not None else None
        counts = entry.counts if entry is not None else self.unlisted == "counts"
        return None if counts else self.reason.replace("{code}", code or "missing")


class StatusFile(Frozen):
    """Which statuses let a recognised resource count as current clinical data, per resource type."""

    kind: Literal["status"]
    resources: dict[StatusResource, StatusPolicy]

    @field_validator("resources")
    @classmethod
    def _every_resource(cls, resources: dict[str, StatusPolicy]) -> dict[str, StatusPolicy]:
        _require_each("needs a policy", STATUS_ELEMENTS, resources)
        return resources

    def set_aside_because(self, resource_type: str, code: str | None) -> str | None:
        """Why a resource with this status is not current data; None when it counts."""
        policy = self.resources.get(resource_type)  # type: ignore[call-overload]
        return policy.set_aside_because(code) if policy is not None else None


class WordingFile(Frozen):
    """How a card names what the fact layer works out: patterns, a progressive red flag, what to watch."""

    kind: Literal["wording"]
    patterns: dict[PatternConcept, Annotated[str, Field(min_length=1)]]
    """The label of each pattern ({patterns}, {patterns_brief} in a card)."""
    progressive_red_flag: Annotated[str, Field(min_length=1)]
    """A red flag with evidence of progression; `{label}` is the red flag's own label."""
    red_flags_to_watch_also: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """{red_flags_to_watch} lists every red flag's label, then these."""

    @field_validator("patterns")
    @classmethod
    def _every_pattern(cls, patterns: dict[str, str]) -> dict[str, str]:
        _require_each("needs a label", PATTERN_CONCEPTS, patterns)
        return patterns

    @field_validator("progressive_red_flag")
    @classmethod
    def _names_the_label(cls, template: str) -> str:
        if _placeholders(template) != {"label"} or template.count("{label}") != 1:
            raise ValueError("must name the red flag once as {label}, and nothing else")
        return template

    def progressive(self, label: str) -> str:
        return self.progressive_red_flag.replace("{label}", label)


class WindowsFile(Frozen):
    """How recent an Observation of each finding kind must be to count as current: the parameter
    (parameters.yaml, in days) that holds its window. A Condition counts while it is active."""

    kind: Literal["windows"]
    windows: dict[str, Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]]

    @field_validator("windows")
    @classmethod
    def _every_kind(cls, windows: dict[str, str]) -> dict[str, str]:
        _require_each("needs a window parameter", FINDING_KINDS, windows)
        unknown = [kind for kind in windows if kind not in FINDING_KINDS]
        if unknown:
            raise ValueError(
                f"unknown finding kind {', '.join(unknown)} (expected {', '.join(FINDING_KINDS)})"
            )
        return windows


class FactSettings(Frozen):
    """The parameters.yaml values the fact layer reads; the rulebook refuses to load without them."""

    symptom_window_days: Days
    red_flag_window_days: Days
    lab_lookback_days: Days
    assessment_lookback_days: Days
    albumin_max_gap_days: Days
    persistent_after_weeks: Days
    widespread_min_regions: Annotated[int, Field(ge=1)]
    progression_min_days: Days
    chronic_red_flag_before_years: float = Field(ge=0)
    albumin_reference_g_dl: float = Field(gt=0)
    albumin_correction_factor: float = Field(ge=0)


class FactParameters(FactSettings):
    """The settings with the policy value sets: all the fact layer is told."""

    lookbacks: dict[str, Days] = Field(default_factory=dict)
    """Per-analyte lookback windows, resolved from `lab_reading.lookback_parameters`."""
    windows: dict[str, Days] = Field(default_factory=dict)
    """Per finding kind, the days an Observation counts as current, resolved from `finding_windows`."""
    finding_windows: WindowsFile
    certainty: CertaintyFile
    interpretation: InterpretationFile
    lab_reading: LabReadingFile
    course: CourseFile
    status: StatusFile
    wording: WordingFile
    body_sites: BodySiteFile

    @property
    def chronic_red_flag_before_days(self) -> int:
        return round(self.chronic_red_flag_before_years * 365)

    def lookback(self, kind: str, name: str) -> int:
        if name in self.lookbacks:
            return self.lookbacks[name]
        return self.assessment_lookback_days if kind == "assessment" else self.lab_lookback_days
