"""Turns compiled rules into durable conditions over coded values."""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from cds.engine.durable_host import Condition
from cds.engine.limits import check_limits
from cds.engine.patterns import CompiledRule, Pattern, Test
from cds.engine.serialise import Codebook, domain_of, property_name
from cds.errors import EngineError

_OPERATORS = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


@dataclass(frozen=True)
class Program:
    """A ruleset ready for durable, and what is needed to code facts for it."""

    keys: tuple[str, ...]
    """Rule key by rule index."""
    conditions: tuple[tuple[Condition, ...], ...]
    """Per rule, one durable condition per pattern."""
    codebook: Codebook
    properties: frozenset[str]
    """Every property name some test reads; other fact fields are never sent."""
    kinds: frozenset[str]
    """Every kind some pattern names; facts of other kinds cannot match and are never sent."""
    rule_kinds: tuple[frozenset[str], ...]
    """Per rule, the kinds its patterns name: it can fire only when facts of all of them are sent."""

    def rules_for(self, kinds: frozenset[str]) -> tuple[int, ...]:
        """The rules facts of `kinds` could complete; a session can fire no other."""
        return tuple(index for index, needed in enumerate(self.rule_kinds) if needed <= kinds)


def compile_rules(rules: Sequence[CompiledRule], *, name: str) -> Program:
    """Validate `rules` as a whole and translate them; EngineError names the offending rule."""
    checked = [_revalidated(rule, position) for position, rule in enumerate(rules)]
    _check_keys(checked, name)
    check_limits(checked, name)
    patterns = [pattern for rule in checked for pattern in rule.patterns]
    tests = [test for pattern in patterns for test in _tests(pattern)]
    codebook = Codebook(test.value for test in tests)
    return Program(
        keys=tuple(rule.key for rule in checked),
        conditions=tuple(tuple(_condition(p, codebook) for p in rule.patterns) for rule in checked),
        codebook=codebook,
        properties=frozenset(property_name(test.field, domain_of(test.value)) for test in tests),
        kinds=frozenset(pattern.kind for pattern in patterns),
        rule_kinds=tuple(frozenset(pattern.kind for pattern in rule.patterns) for rule in checked),
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


def _test_condition(test: Test, codebook: Codebook) -> Condition:
    prop = property_name(test.field, domain_of(test.value))
    code = codebook.code(test.value)
    if test.op == "eq":
        return {prop: code}
    return {_OPERATORS[test.op]: {prop: code}}


def _conjunction(terms: Sequence[Condition]) -> Condition:
    return terms[0] if len(terms) == 1 else {"$and": list(terms)}


def _condition(pattern: Pattern, codebook: Codebook) -> Condition:
    required = [pattern.kind_test(), *pattern.all, *(pattern.any[0] if len(pattern.any) == 1 else ())]
    terms = [_test_condition(test, codebook) for test in required]
    if len(pattern.any) > 1:
        groups = [_conjunction([_test_condition(test, codebook) for test in group]) for group in pattern.any]
        terms.append({"$or": groups})
    return _conjunction(terms)
