"""The value-set files under rules/valuesets/: concepts, their codes and words, as an informaticist
writes them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cds.frozen import Frozen
from cds.terminology.schema import CodeStatus, Identifier, Region, Text
from cds.terminology.systems import system_uri


class CodeEntry(Frozen):
    system: str
    code: Text
    display: Text
    status: CodeStatus
    source: Text | None = None
    """Where the code and its display were checked (IPS free set, CMS tabular, a named document)."""
    note: str | None = None
    region: Region | None = None
    descendants: bool = False
    """The code and every code below it in its system's hierarchy (ICD-10-CM: the tabular)."""
    exclude: list[Text] = []
    """Codes below this one that do not belong, each with everything below it."""

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str, info: ValidationInfo) -> str:
        return system_uri(value, info)

    @model_validator(mode="after")
    def _exclude_needs_descendants(self) -> CodeEntry:
        if self.exclude and not self.descendants:
            raise ValueError("`exclude` needs `descendants: true` (it names codes below this one)")
        return self


class ValueSetImport(Frozen):
    file: Text
    """Relative to rules/valuesets/, e.g. `fhir/dysphagia.json`."""
    status: CodeStatus = "repo-only"
    """What the imported codes count as: repo-only until someone checks them against a source."""
    region: Region | None = None


class Concept(Frozen):
    label: Text
    codes: list[CodeEntry]
    text_patterns: list[Text] = []
    urgency: Literal["urgent", "prompt"] | None = None
    region: Region | None = None
    group: Literal["contributor", "context"] | None = None
    advice: Text | None = None
    reviewed_out: list[Text] = []
    """Candidate codes a reviewer read and left out, each with why: the record of a SNOMED CT review."""
    valuesets: list[ValueSetImport] = []
    """FHIR ValueSets (with an expansion) whose codes are members too."""
    explains: list[Identifier] = []
    """For a condition that explains red flags: the red-flag concepts it accounts for."""

    @model_validator(mode="after")
    def _recognisable(self) -> Concept:
        if not self.codes and not self.text_patterns and not self.valuesets:
            raise ValueError(
                "a concept needs codes, text_patterns or valuesets, or it can never be recognised"
            )
        return self


class ConceptFile(Frozen):
    kind: Literal["symptom", "red_flag", "problem", "explaining_condition"]
    concepts: dict[Identifier, Concept]


class Measure(Frozen):
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


class MeasureFile(Frozen):
    kind: Literal["lab", "assessment"]
    concepts: dict[Identifier, Measure]
    unit_aliases: dict[str, list[str]] = {}


class AtcEntry(Frozen):
    code: Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")]
    display: Text
    status: CodeStatus


class MedicationClass(Frozen):
    label: Text
    advice: Text
    atc: list[AtcEntry]


class RxNormEntry(Frozen):
    code: Annotated[str, Field(pattern=r"^[0-9]+$")]
    display: Text
    status: CodeStatus


class Ingredient(Frozen):
    atc: str
    rxnorm: list[RxNormEntry] = []
    names: list[Text] = []


class MedicationFile(Frozen):
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


class SeverityLevel(Frozen):
    rank: Annotated[int, Field(ge=1, le=9)]
    words: list[Text]
    codes: list[CodeEntry]


class SeverityFile(Frozen):
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


class BodySite(Frozen):
    """A site with a rule of its own: placed in a region or in none, maybe raising a red flag."""

    region: Region | None
    words: list[Text]
    note: Text
    raises: dict[Identifier, Identifier] = {}
    """Symptom concept -> the red-flag concept that symptom is at this site."""
    counts_toward_widespread: bool = True


class BodySiteFile(Frozen):
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
