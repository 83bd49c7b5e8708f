"""A loaded, validated rulebook: everything the fact layer, the engine and the card builder read."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from cds.engine import CompiledRule
from cds.facts.parameters import FactParameters
from cds.rulebook.files import FactPattern, Order, OverrideReason, Parameter, RuleFile, Scalar
from cds.rulebook.templates import Vocabulary
from cds.terminology import Terminology


@dataclass(frozen=True)
class Alternative:
    """One compiled engine rule: which rule-file rule it belongs to and which patterns it stands for."""

    key: str
    rule_id: str
    role: str  # "when", "unless" or "context"
    sources: tuple[FactPattern, ...]
    reasons: tuple[str, ...]
    matched: tuple[tuple[str, str, str | None, str | None], ...]
    """Per pattern, what a fact it matches is kept as: the reason, the match's role ("all", "any" or
    "context"), the label and the advice (`cds.findings.Match`), worked out once per rules version."""


@dataclass(frozen=True)
class Rule:
    spec: RuleFile
    file: str
    indicator: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version


@dataclass(frozen=True)
class Rulebook:
    directory: Path
    version: str
    parameters: dict[str, Parameter]
    rules: tuple[Rule, ...]
    terminology: Terminology
    fact_parameters: FactParameters
    orders: dict[str, Order]
    override_reasons: dict[str, OverrideReason]
    compiled: tuple[CompiledRule, ...]
    alternatives: dict[str, Alternative]
    vocabulary: Vocabulary
    files: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    """What loaded but deserves the author's attention (`cds rules check` prints it)."""

    def value(self, name: str) -> Scalar:
        return self.parameters[name].value

    def integer(self, name: str) -> int:
        value = self.parameters[name].value
        assert isinstance(value, int) and not isinstance(value, bool)
        return value

    def rule(self, rule_id: str) -> Rule:
        return self._rules_by_id[rule_id]

    def position(self, rule_id: str) -> int:
        """The rule's place in the rulebook, the order rules are decided and their cards listed in."""
        return self._positions[rule_id]

    @functools.cached_property
    def _rules_by_id(self) -> dict[str, Rule]:
        """Built on first use: `decide` asks once per activation of every call."""
        return {rule.id: rule for rule in self.rules}

    @functools.cached_property
    def _positions(self) -> dict[str, int]:
        return {rule.id: index for index, rule in enumerate(self.rules)}
