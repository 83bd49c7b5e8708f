"""The schema of the rule, parameter and order files under rules/: what an informaticist may write,
checked field by field."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, ValidationInfo, field_validator, model_validator

from cds.frozen import Frozen
from cds.terminology.schema import CodeStatus, Identifier, Text
from cds.terminology.systems import system_uri

RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
ParamRef = Annotated[str, Field(pattern=r"^\$[a-z][a-z0-9_]*$")]
Scalar = str | int | float | bool


class Parameter(Frozen):
    value: Scalar
    description: Text
    unit: str | None = None


class ParametersFile(Frozen):
    parameters: dict[Identifier, Parameter]


class OrderCode(Frozen):
    system: str
    code: Text
    display: Text
    status: CodeStatus

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str, info: ValidationInfo) -> str:
        return system_uri(value, info)


class Order(Frozen):
    description: Text
    code: OrderCode | None = None
    text: Text | None = None
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None

    @model_validator(mode="after")
    def _named(self) -> Order:
        if self.code is None and self.text is None:
            raise ValueError("an order needs a code or a text")
        return self


class OverrideReason(Frozen):
    display: Text


class OrdersFile(Frozen):
    orders: dict[Identifier, Order]
    override_reasons: dict[Identifier, OverrideReason]


# --- rule files -------------------------------------------------------------------------------------

Comparison = dict[Literal["below", "at_most", "above", "at_least", "not"], Scalar]
WhereValue = Scalar | list[Scalar] | Comparison


class FactPattern(Frozen):
    fact: str
    where: dict[str, WhereValue] = {}
    because: Text | None = None
    label: Text | None = None
    advice: Text | None = None


class Condition(Frozen):
    all: Annotated[list[FactPattern], Field(min_length=1)]
    any: list[FactPattern] = []
    unless: list[FactPattern] = []
    unless_fired: list[RuleId] = []
    context: list[FactPattern] = []
    """Facts that change no decision but the card's words: when one matches, `card.in_context` is shown."""


class Implements(Frozen):
    article: Text
    guideline: Text | None = None


class SuggestionSpec(Frozen):
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


class LinkSpec(Frozen):
    label: Text
    url: HttpUrl


class ContextWording(Frozen):
    summary: Text
    detail: Text


class CardSpec(Frozen):
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


class RuleFile(Frozen):
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
