"""The fact kinds rules may match on, with the fields the engine sees.

A fact carries two sorts of field: scalars the engine matches (`engine_fields`), and the evidence and
words a card needs to explain itself, which never reach the engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

Region = Literal["bulbar", "cervical", "thoracic", "lumbosacral", "unknown"]
LabFlag = Literal["low", "critical_low", "normal", "high", "critical_high", "none"]
PatternConcept = Literal["persistent", "worsening", "widespread_fasciculation", "progressive_red_flag"]

PROGRESSIVE_SUFFIX = " (progressive)"
PATTERN_LABELS: dict[str, str] = {
    "persistent": "persistent",
    "worsening": "worsening",
    "widespread_fasciculation": "widespread",
    "progressive_red_flag": "progressive",
}


class Evidence(BaseModel):
    """One resource a fact rests on, as a card cites it."""

    model_config = ConfigDict(frozen=True)

    resource_type: str
    resource_id: str | None
    origin: str
    date: dt.date | None = None
    text: str

    @property
    def reference(self) -> str:
        """`Type/id`; a resource sent without an id is named by where it was in the input instead."""
        if self.resource_id is None:
            return f"{self.resource_type} (no id, {self.origin})"
        return f"{self.resource_type}/{self.resource_id}"


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]
    explanation_fields: ClassVar[frozenset[str]] = frozenset({"id", "label", "evidence", "detail", "advice"})

    id: str
    label: str
    evidence: tuple[Evidence, ...] = ()
    detail: str | None = Field(default=None, description="How the value was read, in words, for the card.")
    advice: str | None = None

    @classmethod
    def engine_fields(cls) -> list[str]:
        return [name for name in cls.model_fields if name not in cls.explanation_fields]

    def engine_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"id": self.id, "kind": self.kind}
        for name in self.engine_fields():
            payload[name] = getattr(self, name)
        return payload


class Symptom(Fact):
    kind: ClassVar[str] = "symptom"
    concept: str
    region: Region
    severity_rank: int = Field(ge=0, le=9)
    days_since_onset: int = Field(ge=0)
    source: Literal["condition", "observation"]


class RedFlag(Fact):
    kind: ClassVar[str] = "red_flag"
    concept: str
    urgency: Literal["urgent", "prompt"]
    progressive: bool
    days_since_onset: int = Field(ge=0)


class Problem(Fact):
    kind: ClassVar[str] = "problem"
    concept: str
    group: Literal["contributor", "context"]


class Lab(Fact):
    kind: ClassVar[str] = "lab"
    analyte: str
    value: float = Field(allow_inf_nan=False)
    unit: str
    lab_flag: LabFlag
    days_ago: int = Field(ge=0)
    corrected: bool


class Assessment(Fact):
    kind: ClassVar[str] = "assessment"
    instrument: str
    score: float = Field(allow_inf_nan=False)
    days_ago: int = Field(ge=0)


class Medication(Fact):
    kind: ClassVar[str] = "medication"
    med_class: str
    ingredient: str
    atc: str


class Pattern(Fact):
    kind: ClassVar[str] = "pattern"
    concept: PatternConcept


class Record(Fact):
    """One per evaluation: what is true of the record as a whole (absence can only be stated here)."""

    kind: ClassVar[str] = "record"
    electrolytes_in_lookback: bool
    symptom_count: int = Field(ge=0)
    red_flag_count: int = Field(ge=0)


FACT_KINDS: dict[str, type[Fact]] = {
    cls.kind: cls for cls in (Symptom, RedFlag, Problem, Lab, Assessment, Medication, Pattern, Record)
}


class SetAside(BaseModel):
    """A resource recognised as relevant but not used, and why: never dropped silently."""

    model_config = ConfigDict(frozen=True)

    reference: str
    what: str
    reason: str


# Parameters the fact layer itself reads (windows, thresholds used to recognise patterns), with the
# type each must have. The rulebook refuses to load without them.
FACT_PARAMETERS: dict[str, type] = {
    "symptom_window_days": int,
    "red_flag_window_days": int,
    "lab_lookback_days": int,
    "assessment_lookback_days": int,
    "albumin_max_gap_days": int,
    "persistent_after_weeks": int,
    "widespread_min_regions": int,
}
