"""The schema of every file under rules/: what an informaticist may write, checked field by field."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from cds.rulebook.codesystems import system_uri

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1)]
ParamRef = Annotated[str, Field(pattern=r"^\$[a-z][a-z0-9_]*$")]
Scalar = str | int | float | bool
CodeStatus = Literal["confirmed", "repo-only", "unconfirmed"]
Region = Literal["bulbar", "cervical", "thoracic", "lumbosacral"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    def _known_system(cls, value: str) -> str:
        return system_uri(value)


class Concept(Strict):
    label: Text
    codes: list[CodeEntry]
    text_patterns: list[Text] = []
    urgency: Literal["urgent", "prompt"] | None = None
    region: Region | None = None
    group: Literal["contributor", "context"] | None = None
    advice: Text | None = None

    @model_validator(mode="after")
    def _recognisable(self) -> Concept:
        if not self.codes and not self.text_patterns:
            raise ValueError("a concept needs codes or text_patterns, or it can never be recognised")
        return self


class ConceptFile(Strict):
    kind: Literal["symptom", "red_flag", "problem"]
    concepts: dict[Identifier, Concept]


class MeasuredConcept(Strict):
    label: Text
    unit: Text
    units: dict[str, float]
    codes: list[CodeEntry]
    unit_aliases: dict[str, list[str]] = {}
    albumin_correction: bool = False

    @model_validator(mode="after")
    def _canonical_unit_converts(self) -> MeasuredConcept:
        if self.units.get(self.unit) != 1.0:
            raise ValueError(f"units must give the canonical unit {self.unit!r} the factor 1.0")
        return self


class MeasuredFile(Strict):
    kind: Literal["lab", "assessment"]
    concepts: dict[Identifier, MeasuredConcept]
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


class BodySiteFile(Strict):
    kind: Literal["body_site"]
    regions: dict[Region, list[Text]]


class Parameter(Strict):
    value: Scalar
    description: Text
    unit: str | None = None


class ParametersFile(Strict):
    parameters: dict[Identifier, Parameter]


class OrderCode(Strict):
    system: str
    code: Text
    display: Text
    status: CodeStatus

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str) -> str:
        return system_uri(value)


class Order(Strict):
    description: Text
    code: OrderCode | None = None
    text: Text | None = None
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None

    @model_validator(mode="after")
    def _named(self) -> Order:
        if self.code is None and self.text is None:
            raise ValueError("an order needs a code or a text")
        return self


class OverrideReason(Strict):
    display: Text


class OrdersFile(Strict):
    orders: dict[Identifier, Order]
    override_reasons: dict[Identifier, OverrideReason]


# --- rule files -------------------------------------------------------------------------------------

Comparison = dict[Literal["below", "at_most", "above", "at_least", "not"], Scalar]
WhereValue = Scalar | list[Scalar] | Comparison


class FactPattern(Strict):
    fact: str
    where: dict[str, WhereValue] = {}
    because: Text | None = None
    label: Text | None = None
    advice: Text | None = None


class Condition(Strict):
    all: Annotated[list[FactPattern], Field(min_length=1)]
    any: list[FactPattern] = []
    unless: list[FactPattern] = []
    unless_fired: list[RuleId] = []
    context: list[FactPattern] = []
    """Facts that change no decision but the card's words: when one matches, `card.in_context` is shown."""


class Implements(Strict):
    article: Text
    guideline: Text | None = None


class SuggestionSpec(Strict):
    label: Text
    order: Identifier | None = None
    orders: list[Identifier] = []
    recommended: bool = False

    @model_validator(mode="after")
    def _has_orders(self) -> SuggestionSpec:
        if (self.order is None) == (not self.orders):
            raise ValueError("a suggestion names exactly one of `order` or `orders`")
        return self

    @property
    def order_names(self) -> list[str]:
        return [self.order] if self.order else list(self.orders)


class LinkSpec(Strict):
    label: Text
    url: HttpUrl


class ContextWording(Strict):
    summary: Text
    detail: Text


class CardSpec(Strict):
    indicator: Literal["info", "warning", "critical"] | ParamRef
    summary: Text
    detail: Text
    in_context: ContextWording | None = None
    suggestions: list[SuggestionSpec] = []
    selection: Literal["at-most-one", "any"] | None = None
    override_reasons: list[Identifier] = []
    links: list[LinkSpec] = []

    @model_validator(mode="after")
    def _selection_with_suggestions(self) -> CardSpec:
        if self.suggestions and self.selection is None:
            raise ValueError("suggestions need `selection` (at-most-one or any)")
        if self.selection == "at-most-one" and sum(s.recommended for s in self.suggestions) > 1:
            raise ValueError("at most one suggestion may be recommended under at-most-one")
        return self


VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class RuleFile(Strict):
    id: RuleId
    version: Annotated[str, Field(pattern=VERSION.pattern)]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    implements: Implements
    when: Condition
    card: CardSpec

    @model_validator(mode="after")
    def _context_has_words(self) -> RuleFile:
        if bool(self.when.context) != (self.card.in_context is not None):
            raise ValueError("when.context and card.in_context go together: the context changes the words")
        return self
