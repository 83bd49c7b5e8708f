"""Compiled rules that differ only in their last pattern's tests, run as one durable rule.

A durable session clears and allocates state for every pattern of its ruleset (about 8 KB each) when it
starts and frees it when deleted, whatever the facts; the rule alternatives a rule file's `any` expands
to (fifteen of the lab alternatives of one rule) share their first patterns and differ only in the
tests of the last. So rules with the same leading patterns and the same last kind become one durable
rule whose last pattern is the `$or` of theirs, and a firing is told apart again in Python by the
tests of the last pattern on the matched fact's coded values (integers that compare exactly as the
values do, `cds.engine.serialise`).

Only alternatives that exclude each other share a durable rule (an equality test on one property with
different values, so a fact passes at most one of them: durable would start the action of a
one-pattern rule once per alternative a fact passes), or alternatives that are the same tests (the
blocker a rule file repeats). A pattern with `any` groups of its own keeps its durable rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cds.engine.durable_host import MAX_PATTERN_MARKERS, Condition, condition_markers
from cds.engine.patterns import CompiledRule, Pattern, Test
from cds.engine.serialise import Codebook, domain_of, property_name
from cds.errors import EngineError

_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}

Check = tuple[str, Callable[[int, int], bool], int]
"""A test as durable runs it: the property, the comparison and the threshold's code."""


@dataclass(frozen=True, slots=True)
class Branch:
    """One alternative of a durable rule's last pattern, and the compiled rules it stands for."""

    checks: tuple[Check, ...]
    rules: tuple[int, ...]
    """Indexes of the compiled rules whose last pattern is this alternative."""


@dataclass(frozen=True, slots=True)
class DurableRule:
    conditions: tuple[Condition, ...]
    """One durable condition per pattern."""
    kinds: frozenset[str]
    """The kinds its patterns name: it can fire only when facts of all of them are sent."""
    branches: tuple[Branch, ...]

    def fired(self, matched: Sequence[int], facts: Sequence[dict[str, int]]) -> tuple[int, ...]:
        """The compiled rules a firing on `matched` (positions in `facts`, the coded batch) stands for."""
        if len(self.branches) == 1:
            return self.branches[0].rules
        last = facts[matched[-1]]
        for branch in self.branches:
            for prop, compare, code in branch.checks:
                value = last.get(prop)
                if value is None or not compare(value, code):
                    break
            else:
                return branch.rules
        raise EngineError("durable-rules fired a rule on a fact that passes none of its alternatives")


@dataclass
class _Building:
    lead: tuple[Pattern, ...]
    kind: str
    branches: list[tuple[tuple[Test, ...], list[int]]]


def group_rules(rules: Sequence[CompiledRule], codebook: Codebook) -> tuple[DurableRule, ...]:
    """The durable rules that run `rules`, in the order of their first compiled rule."""
    building: list[_Building] = []
    open_groups: dict[tuple[tuple[Pattern, ...], str], list[_Building]] = {}
    for index, rule in enumerate(rules):
        *lead, last = rule.patterns
        if last.any:
            building.append(_Building(tuple(lead), last.kind, [((), [index])]))
            continue
        candidates = open_groups.setdefault((tuple(lead), last.kind), [])
        if not any(_joined(group, last.all, index, codebook) for group in candidates):
            group = _Building(tuple(lead), last.kind, [(last.all, [index])])
            candidates.append(group)
            building.append(group)
    return tuple(_durable_rule(group, rules, codebook) for group in building)


def _joined(group: _Building, tests: tuple[Test, ...], index: int, codebook: Codebook) -> bool:
    """Adds rule `index` to `group` if its last pattern's `tests` are one of the group's alternatives or
    exclude each of them, and the durable condition stays within what durable can hold."""
    for existing, members in group.branches:
        if existing == tests:
            members.append(index)
            return True
    if not all(_exclusive(existing, tests, codebook) for existing, _ in group.branches):
        return False
    alternatives = (*(existing for existing, _ in group.branches), tests)
    if condition_markers(condition_of(_merged(group.kind, alternatives), codebook)) > MAX_PATTERN_MARKERS:
        return False
    group.branches.append((tests, [index]))
    return True


def _exclusive(first: tuple[Test, ...], second: tuple[Test, ...], codebook: Codebook) -> bool:
    """True when no fact can pass both: they test one property for equality with different values."""
    wanted = {_property(test): codebook.code(test.value) for test in first if test.op == "eq"}
    return any(
        test.op == "eq"
        and wanted.get(_property(test), codebook.code(test.value)) != codebook.code(test.value)
        for test in second
    )


def _property(test: Test) -> str:
    return property_name(test.field, domain_of(test.value))


def _merged(kind: str, alternatives: Sequence[tuple[Test, ...]]) -> Pattern:
    if len(alternatives) == 1:
        return Pattern(kind=kind, all=alternatives[0])
    return Pattern(kind=kind, any=tuple(alternatives))


def _durable_rule(group: _Building, rules: Sequence[CompiledRule], codebook: Codebook) -> DurableRule:
    if len(group.branches) == 1:
        patterns = rules[group.branches[0][1][0]].patterns
    else:
        patterns = (*group.lead, _merged(group.kind, [tests for tests, _ in group.branches]))
    return DurableRule(
        conditions=tuple(condition_of(pattern, codebook) for pattern in patterns),
        kinds=frozenset(pattern.kind for pattern in patterns),
        branches=tuple(
            Branch(
                checks=tuple(
                    (_property(test), _COMPARE[test.op], codebook.code(test.value)) for test in tests
                ),
                rules=tuple(members),
            )
            for tests, members in group.branches
        ),
    )


_OPERATORS = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


def _test_condition(test: Test, codebook: Codebook) -> Condition:
    code = codebook.code(test.value)
    if test.op == "eq":
        return {_property(test): code}
    return {_OPERATORS[test.op]: {_property(test): code}}


def _conjunction(terms: Sequence[Condition]) -> Condition:
    return terms[0] if len(terms) == 1 else {"$and": list(terms)}


def condition_of(pattern: Pattern, codebook: Codebook) -> Condition:
    """The durable condition of one pattern: its kind, its `all` tests and the `$or` of its groups."""
    required = [pattern.kind_test(), *pattern.all, *(pattern.any[0] if len(pattern.any) == 1 else ())]
    terms = [_test_condition(test, codebook) for test in required]
    if len(pattern.any) > 1:
        groups = [_conjunction([_test_condition(test, codebook) for test in group]) for group in pattern.any]
        terms.append({"$or": groups})
    return _conjunction(terms)
