"""The fact kinds rules may match on, with the fields the engine sees.

A fact carries two sorts of field: scalars the engine matches (`engine_fields`), and the evidence and
words a card needs to explain itself, which never reach the engine.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, ClassVar, Literal, Self, cast

from pydantic import BaseModel, ConfigDict, Field

from cds.terminology.schema import Region

RegionOrUnknown = Literal[Region, "unknown"]
"""Where a symptom was recorded: a region, or unknown when no body site placed it in one."""
Certainty = Literal["known", "suspected"]
"""A finding as recorded (confirmed, or with no status), or a suspicion (provisional, differential...)."""
LabFlag = Literal["low", "critical_low", "normal", "high", "critical_high", "none"]
PatternConcept = Literal["persistent", "worsening", "widespread_fasciculation", "progressive_red_flag"]


class Built(BaseModel):
    """A model the fact layer builds several of a call. `of` is the constructor's validation (the
    same validator, the same instance) without `BaseModel.__init__`'s frame and its second keyword
    dict: half the cost of a fact (measured: a Symptom 4.5 -> 2.1 µs on a busy machine)."""

    @classmethod
    def of(cls, **fields: Any) -> Self:
        return cast(Self, cls.__pydantic_validator__.validate_python(fields))


class Evidence(Built):
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


class Fact(Built):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]
    explanation_fields: ClassVar[frozenset[str]] = frozenset({"id", "label", "evidence", "detail", "advice"})

    id: str
    label: str
    evidence: tuple[Evidence, ...] = ()
    detail: str | None = Field(default=None, description="How the value was read, in words, for the card.")
    advice: str | None = None

    @classmethod
    @functools.cache
    def engine_fields(cls) -> tuple[str, ...]:
        """Once per class: every fact of every call asks."""
        return tuple(name for name in cls.model_fields if name not in cls.explanation_fields)

    def engine_payload(self) -> dict[str, Any]:
        """A field with no value is left out, so it matches no test (as an absent field). Read from
        the instance's `__dict__`, where pydantic keeps the fields: each name found in one look-up,
        not after a search of the class's attributes."""
        values = self.__dict__
        payload: dict[str, Any] = {"id": values["id"], "kind": self.kind}
        for name in self.engine_fields():
            value = values[name]
            if value is not None:
                payload[name] = value
        return payload


class Symptom(Fact):
    kind: ClassVar[str] = "symptom"
    concept: str
    region: RegionOrUnknown
    severity_rank: int = Field(ge=0, le=9)
    days_since_onset: int = Field(ge=0)
    source: Literal["condition", "observation"]


class RedFlag(Fact):
    kind: ClassVar[str] = "red_flag"
    concept: str
    urgency: Literal["urgent", "prompt"]
    progressive: bool
    as_context: bool
    """Chronic and stable, or explained by a recorded cause: context, not a new motor neuron sign."""
    days_since_onset: int = Field(ge=0)
    certainty: Certainty


class Diagnosis(Fact):
    """Kind `problem`: a diagnosis on the problem list (a benign contributor, or known ALS/MND)."""

    kind: ClassVar[str] = "problem"
    concept: str
    group: Literal["contributor", "context"]
    certainty: Certainty


class Lab(Fact):
    kind: ClassVar[str] = "lab"
    analyte: str
    value: float | None = Field(allow_inf_nan=False, description="None when the lab gave only a flag.")
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


class HistoryPattern(Fact):
    """Kind `pattern`: what the history shows (persistent, worsening, widespread, progressive)."""

    kind: ClassVar[str] = "pattern"
    concept: PatternConcept


class WholeRecord(Fact):
    """One per evaluation: what is true of the record as a whole (absence can only be stated here)."""

    kind: ClassVar[str] = "record"
    electrolytes_in_lookback: bool
    symptom_count: int = Field(ge=0)
    red_flag_count: int = Field(ge=0)


FACT_KINDS: dict[str, type[Fact]] = {
    cls.kind: cls
    for cls in (Symptom, RedFlag, Diagnosis, Lab, Assessment, Medication, HistoryPattern, WholeRecord)
}


class SetAside(Built):
    """A resource recognised as relevant but not used, and why: never dropped silently."""

    model_config = ConfigDict(frozen=True)

    reference: str
    what: str
    reason: str
