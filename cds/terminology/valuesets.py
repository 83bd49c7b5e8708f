"""The value-set files under rules/valuesets/: concepts, their codes and words, as an informaticist
writes them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cds.terminology.schema import CodeStatus, Identifier, Region, Strict, Text
from cds.terminology.systems import system_uri


class CodeEntry(Strict):
    system: str
    code: Text
    display: Text
    status: CodeStatus
    note: str | None = None
    region: Region | None = None
    match: Literal["exact", "prefix"] = "exact"

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str, info: ValidationInfo) -> str:
        return system_uri(value, info)


class Concept(Strict):
    label: Text
    codes: list[CodeEntry]
    text_patterns: list[Text] = []
    urgency: Literal["urgent", "prompt"] | None = None
    region: Region | None = None
    group: Literal["contributor", "context"] | None = None
    advice: Text | None = None
    explains: list[Identifier] = []
    """For a condition that explains red flags: the red-flag concepts it accounts for."""

    @model_validator(mode="after")
    def _recognisable(self) -> Concept:
        if not self.codes and not self.text_patterns:
            raise ValueError("a concept needs codes or text_patterns, or it can never be recognised")
        return self


class ConceptFile(Strict):
    kind: Literal["symptom", "red_flag", "problem", "explaining_condition"]
    concepts: dict[Identifier, Concept]


class Measure(Strict):
    """A lab analyte or an assessment instrument: its codes and the units its value may come in."""

    label: Text
    unit: Text
    units: dict[str, float]
    codes: list[CodeEntry]
    unit_aliases: dict[str, list[str]] = {}
    albumin_correction: bool = False

    @model_validator(mode="after")
    def _canonical_unit_converts(self) -> Measure:
        if self.units.get(self.unit) != 1.0:
            raise ValueError(f"units must give the canonical unit {self.unit!r} the factor 1.0")
        return self


class MeasureFile(Strict):
    kind: Literal["lab", "assessment"]
    concepts: dict[Identifier, Measure]
    unit_aliases: dict[str, list[str]] = {}


class AtcEntry(Strict):
    code: Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")]
    display: Text
    status: CodeStatus


class MedicationClass(Strict):
    label: Text
    advice: Text
    atc: list[AtcEntry]


class RxNormEntry(Strict):
    code: Annotated[str, Field(pattern=r"^[0-9]+$")]
    display: Text
    status: CodeStatus


class Ingredient(Strict):
    atc: str
    rxnorm: list[RxNormEntry] = []
    names: list[Text] = []


class MedicationFile(Strict):
    kind: Literal["medication"]
    classes: dict[Identifier, MedicationClass]
    ingredients: dict[str, Ingredient]

    @model_validator(mode="after")
    def _ingredients_have_known_class(self) -> MedicationFile:
        known = {entry.code for cls in self.classes.values() for entry in cls.atc}
        for name, ingredient in self.ingredients.items():
            if ingredient.atc not in known:
                raise ValueError(
                    f"ingredient {name!r}: ATC {ingredient.atc!r} is not a code of any class "
                    f"(known: {', '.join(sorted(known))})"
                )
        return self


class SeverityLevel(Strict):
    rank: Annotated[int, Field(ge=1, le=9)]
    words: list[Text]
    codes: list[CodeEntry]


class SeverityFile(Strict):
    kind: Literal["severity"]
    levels: dict[Identifier, SeverityLevel]


class BodySiteCode(CodeEntry):
    """A body-structure code, placed in a region or at a named site."""

    site: Identifier | None = None

    @model_validator(mode="after")
    def _placed(self) -> BodySiteCode:
        if (self.region is None) == (self.site is None):
            raise ValueError("a body-site code names exactly one of `region` or `site`")
        return self


class BodySite(Strict):
    """A site with a rule of its own: placed in a region or in none, maybe raising a red flag."""

    region: Region | None
    words: list[Text]
    note: Text
    raises: dict[Identifier, Identifier] = {}
    """Symptom concept -> the red-flag concept that symptom is at this site."""
    counts_toward_widespread: bool = True


class BodySiteFile(Strict):
    kind: Literal["body_site"]
    regions: dict[Region, list[Text]]
    muscles: dict[Region, list[Text]] = {}
    sites: dict[Identifier, BodySite] = {}
    codes: list[BodySiteCode] = []
    widespread_symptoms: list[Identifier] = []

    @model_validator(mode="after")
    def _sites_known(self) -> BodySiteFile:
        unknown = sorted({c.site for c in self.codes if c.site and c.site not in self.sites})
        if unknown:
            raise ValueError(f"codes name unknown sites: {', '.join(unknown)} (define them under sites)")
        return self
