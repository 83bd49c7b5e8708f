"""Turns compiled rules into durable conditions over coded values."""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from cds.engine.grouping import DurableRule, group_rules
from cds.engine.limits import check_limits
from cds.engine.patterns import CompiledRule, Pattern, Test
from cds.engine.serialise import Codebook, domain_of, property_name
from cds.errors import EngineError


@dataclass(frozen=True)
class Program:
    """A ruleset ready for durable, and what is needed to code facts for it."""

    keys: tuple[str, ...]
    """Rule key by rule index."""
    rules: tuple[DurableRule, ...]
    """The durable rules that run them (`cds.engine.grouping`)."""
    codebook: Codebook
    properties: frozenset[str]
    """Every property name some test reads; other fact fields are never sent."""
    kinds: frozenset[str]
    """Every kind some pattern names; facts of other kinds cannot match and are never sent."""

    def rules_for(self, kinds: frozenset[str]) -> tuple[int, ...]:
        """The durable rules facts of `kinds` could complete; a session can fire no other."""
        return tuple(index for index, rule in enumerate(self.rules) if rule.kinds <= kinds)


def compile_rules(rules: Sequence[CompiledRule], *, name: str) -> Program:
    """Validate `rules` as a whole and translate them; EngineError names the offending rule."""
    checked = [_revalidated(rule, position) for position, rule in enumerate(rules)]
    _check_keys(checked, name)
    patterns = [pattern for rule in checked for pattern in rule.patterns]
    tests = [test for pattern in patterns for test in _tests(pattern)]
    codebook = Codebook(test.value for test in tests)
    check_limits(checked, codebook, name)
    return Program(
        keys=tuple(rule.key for rule in checked),
        rules=group_rules(checked, codebook),
        codebook=codebook,
        properties=frozenset(property_name(test.field, domain_of(test.value)) for test in tests),
        kinds=frozenset(pattern.kind for pattern in patterns),
    )


def _revalidated(rule: CompiledRule, position: int) -> CompiledRule:
    try:
        return CompiledRule.model_validate(rule)
    except ValidationError as exc:
        key = getattr(rule, "key", None)
        label = f"rule {key!r}" if isinstance(key, str) else f"rule #{position}"
        problems = "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors())
        raise EngineError(f"{label}: {problems}") from exc


def _check_keys(rules: Sequence[CompiledRule], name: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.key in seen:
            raise EngineError(f"ruleset {name!r}: rule key {rule.key!r} is used twice")
        seen.add(rule.key)


def _tests(pattern: Pattern) -> list[Test]:
    return [pattern.kind_test(), *pattern.all, *(test for group in pattern.any for test in group)]
