"""A reference evaluator: the rule files' `when` semantics, read straight from the YAML, in plain Python.

It shares no code with the production path (rulebook loader, rule compiler, durable-rules engine,
findings, cards): it reads `rules/definitions/*.yaml` and `rules/parameters.yaml` with plain `yaml` and
evaluates each rule over fact dicts (`Fact.engine_payload()`), so a disagreement with the engine points
at the rules -> engine -> findings path. Semantics, as the rule files document them:

- `all`: every pattern is matched, each by a different fact; `any`: if given, one more pattern is
  matched by yet another fact; `unless`: no fact matches any of these patterns; `unless_fired`: none of
  the named rules fired.
- `where`: a scalar means equals, a list means one of, a mapping of `below`, `at_most`, `above`,
  `at_least`, `not` means every comparison holds; `$name` stands for a parameter's value. Values match
  only values of their own type (a boolean never equals a number); a missing field matches nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from cds.testing.compare import INDICATOR_RANK

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "below": operator.lt,
    "at_most": operator.le,
    "above": operator.gt,
    "at_least": operator.ge,
}
Fact = Mapping[str, Any]


class ReferenceOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    fired: tuple[str, ...]
    """Ids of the rules that fire, sorted."""
    indicators: dict[str, str]
    """The card indicator of each rule that fires."""

    @property
    def top_indicator(self) -> str | None:
        values = list(self.indicators.values())
        return max(values, key=INDICATOR_RANK.__getitem__) if values else None


class _Pattern(BaseModel):
    model_config = ConfigDict(frozen=True)

    fact: str
    where: dict[str, Any]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    file: str
    all: tuple[_Pattern, ...]
    any: tuple[_Pattern, ...]
    unless: tuple[_Pattern, ...]
    unless_fired: tuple[str, ...]
    indicator: str


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _number(left) or _number(right):
        return _number(left) and _number(right) and left == right
    return type(left) is type(right) and bool(left == right)


def _holds(value: Any, condition: Any) -> bool:
    if isinstance(condition, Mapping):
        for word, operand in condition.items():
            if word == "not":
                if _same(value, operand):
                    return False
            elif not (_number(value) and _number(operand) and _COMPARE[word](value, operand)):
                return False
        return True
    if isinstance(condition, list):
        return any(_same(value, option) for option in condition)
    return _same(value, condition)


def matches(pattern: _Pattern, fact: Fact) -> bool:
    if fact.get("kind") != pattern.fact:
        return False
    return all(name in fact and _holds(fact[name], condition) for name, condition in pattern.where.items())


def _distinct(
    patterns: Sequence[_Pattern], facts: Sequence[Fact], used: frozenset[int] = frozenset()
) -> bool:
    """Whether each pattern can be matched by a different fact (a small backtracking search)."""
    if not patterns:
        return True
    first, rest = patterns[0], patterns[1:]
    return any(
        index not in used and matches(first, fact) and _distinct(rest, facts, used | {index})
        for index, fact in enumerate(facts)
    )


class _Reader:
    """Plain-YAML reading with errors that name the file and the field."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        parameters = self._load(directory / "parameters.yaml").get("parameters")
        if not isinstance(parameters, Mapping):
            raise ValueError(f"{directory / 'parameters.yaml'}: expected a 'parameters' mapping")
        self.parameters = {
            name: spec["value"]
            for name, spec in parameters.items()
            if isinstance(spec, Mapping) and "value" in spec
        }

    def _load(self, path: Path) -> dict[str, Any]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping at the top of the file")
        return data

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            if value[1:] not in self.parameters:
                raise ValueError(f"{where}: unknown parameter {value} (not in parameters.yaml)")
            return self.parameters[value[1:]]
        if isinstance(value, list):
            return [self.resolve(item, where) for item in value]
        if isinstance(value, Mapping):
            unknown = set(value) - {*_COMPARE, "not"}
            if unknown:
                raise ValueError(f"{where}: unknown comparison {sorted(unknown)[0]!r}")
            return {word: self.resolve(operand, f"{where}.{word}") for word, operand in value.items()}
        return value

    def patterns(self, when: Mapping[str, Any], section: str, where: str) -> tuple[_Pattern, ...]:
        found = []
        for index, raw in enumerate(when.get(section) or []):
            at = f"{where}.{section}[{index}]"
            if not isinstance(raw, Mapping) or not isinstance(raw.get("fact"), str):
                raise ValueError(f"{at}: expected a pattern with a 'fact'")
            conditions = raw.get("where") or {}
            resolved = {name: self.resolve(value, f"{at}.where.{name}") for name, value in conditions.items()}
            found.append(_Pattern(fact=raw["fact"], where=resolved))
        return tuple(found)

    def rule(self, path: Path) -> _Rule:
        data = self._load(path)
        where = f"{path.name}: when"
        when = data.get("when")
        card = data.get("card")
        if (
            not isinstance(when, Mapping)
            or not isinstance(card, Mapping)
            or not isinstance(data.get("id"), str)
        ):
            raise ValueError(f"{path}: a rule needs 'id', 'when' and 'card'")
        return _Rule(
            id=data["id"],
            file=path.name,
            all=self.patterns(when, "all", where),
            any=self.patterns(when, "any", where),
            unless=self.patterns(when, "unless", where),
            unless_fired=tuple(when.get("unless_fired") or ()),
            indicator=str(self.resolve(card.get("indicator"), f"{path.name}: card.indicator")),
        )


class ReferenceEvaluator:
    """The rules of one rules directory, evaluated over fact dicts the obvious way."""

    def __init__(self, directory: Path | str) -> None:
        root = Path(directory)
        reader = _Reader(root)
        self.directory = root
        self.rules: dict[str, _Rule] = {}
        for path in sorted((root / "definitions").glob("*.yaml")):
            rule = reader.rule(path)
            if rule.id in self.rules:
                raise ValueError(
                    f"{path.name}: rule id {rule.id!r} is also used in {self.rules[rule.id].file}"
                )
            self.rules[rule.id] = rule
        for rule in self.rules.values():
            unknown = [other for other in rule.unless_fired if other not in self.rules]
            if unknown:
                raise ValueError(f"{rule.file}: when.unless_fired names unknown rule {unknown[0]!r}")
            self._refuse_cycles(rule.id, ())

    def _refuse_cycles(self, rule_id: str, path: tuple[str, ...]) -> None:
        if rule_id in path:
            raise ValueError("unless_fired forms a cycle: " + " -> ".join((*path, rule_id)))
        for other in self.rules[rule_id].unless_fired:
            self._refuse_cycles(other, (*path, rule_id))

    def rules_requiring(self, fact_kind: str) -> tuple[str, ...]:
        """Rules that cannot fire without a fact of this kind (named in their `all`)."""
        return tuple(r.id for r in self.rules.values() if any(p.fact == fact_kind for p in r.all))

    def evaluate(self, facts: Iterable[Fact]) -> ReferenceOutcome:
        every = list(facts)
        decided: dict[str, bool] = {}

        def fires(rule_id: str) -> bool:
            if rule_id not in decided:
                rule = self.rules[rule_id]
                decided[rule_id] = (
                    self._conditions_hold(rule, every)
                    and not any(matches(p, f) for p in rule.unless for f in every)
                    and not any(fires(other) for other in rule.unless_fired)
                )
            return decided[rule_id]

        fired = sorted(rule_id for rule_id in self.rules if fires(rule_id))
        return ReferenceOutcome(
            fired=tuple(fired), indicators={rule_id: self.rules[rule_id].indicator for rule_id in fired}
        )

    @staticmethod
    def _conditions_hold(rule: _Rule, facts: Sequence[Fact]) -> bool:
        if not rule.any:
            return _distinct(rule.all, facts)
        return any(_distinct((*rule.all, option), facts) for option in rule.any)
