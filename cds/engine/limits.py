"""Measures a ruleset against durable-rules' limits before any of it reaches C.

Past these sizes durable hangs, or fails every evaluation a fact of some kind appears in, so a ruleset is
refused when it is loaded, with a message naming the rules or kind to change. durable builds one chain of
alpha tests per pattern branch (`all` tests, then one `any` group), in the order given, and shares a test
with every other chain that reaches it through the same tests; the counts below follow that shape.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from cds.engine.durable_host import (
    MAX_ALPHA_TESTS,
    MAX_PATTERN_BRANCHES,
    MAX_PATTERN_MARKERS,
    MAX_PATTERNS_PER_RULE,
    MAX_PENDING_ALPHA_TESTS,
    condition_markers,
)
from cds.engine.grouping import condition_of
from cds.engine.patterns import CompiledRule, Pattern, Test
from cds.engine.serialise import Codebook, domain_of, property_name
from cds.errors import EngineError

_Key = tuple[str, str, object]
"""What makes two alpha tests the same durable node: property, operator, threshold."""
_Trie = dict[_Key, "_Trie"]


def check_limits(rules: Sequence[CompiledRule], codebook: Codebook, name: str) -> None:
    """Raise EngineError if durable-rules could not run `rules` safely."""
    for rule in rules:
        if len(rule.patterns) > MAX_PATTERNS_PER_RULE:
            raise EngineError(
                f"rule {rule.key!r} has {len(rule.patterns)} patterns; "
                f"at most {MAX_PATTERNS_PER_RULE} are allowed"
            )
        _check_markers(rule, codebook)
    _check_totals(rules, name)
    _check_pending(rules, name)


def _check_markers(rule: CompiledRule, codebook: Codebook) -> None:
    for position, pattern in enumerate(rule.patterns, start=1):
        markers = condition_markers(condition_of(pattern, codebook))
        if markers > MAX_PATTERN_MARKERS:
            raise EngineError(
                f"rule {rule.key!r}, pattern {position} (kind {pattern.kind!r}): its durable condition "
                f"needs {markers} `$and`/`$or` entries (two for the pattern, two for its `any` and two "
                f"for each `any` group of two or more tests); at most {MAX_PATTERN_MARKERS} are allowed "
                f"because durable-rules fails with error 113 at 32. Split the `any` groups over two rules"
            )


def _branches(pattern: Pattern) -> list[tuple[Test, ...]]:
    head = (pattern.kind_test(), *pattern.all)
    return [head + group for group in pattern.any] or [head]


def _check_totals(rules: Sequence[CompiledRule], name: str) -> None:
    cost = {rule.key: sum(len(b) for pattern in rule.patterns for b in _branches(pattern)) for rule in rules}
    ranked = sorted(cost.items(), key=lambda item: -item[1])
    largest = ", ".join(f"{key} ({tests})" for key, tests in ranked[:3])
    total = sum(cost.values())
    if total > MAX_ALPHA_TESTS:
        raise EngineError(
            f"ruleset {name!r} needs {total} alpha tests (a kind test and each test of every pattern, "
            f"`all` tests again for each `any` group); at most {MAX_ALPHA_TESTS} are allowed because "
            f"durable-rules hangs at 512. Largest rules: {largest}"
        )
    branches = sum(len(_branches(pattern)) for rule in rules for pattern in rule.patterns)
    if branches > MAX_PATTERN_BRANCHES:
        raise EngineError(
            f"ruleset {name!r} has {branches} pattern branches (one per pattern, or per `any` group); "
            f"at most {MAX_PATTERN_BRANCHES} are allowed. Largest rules: {largest}"
        )


def _key(test: Test) -> _Key:
    return (property_name(test.field, domain_of(test.value)), test.op, test.value)


def _trie(chains: Iterable[Sequence[Test]]) -> _Trie:
    root: _Trie = {}
    for chain in chains:
        node = root
        for test in chain:
            node = node.setdefault(_key(test), {})
    return root


def _matchable(children: Iterable[_Key]) -> int:
    """How many of these tests one fact can pass at once: equalities on one property exclude each other."""
    keys = list(children)
    equalities = {prop for prop, op, _ in keys if op == "eq"}
    return len(equalities) + sum(1 for _, op, _ in keys if op != "eq")


def _peak(children: _Trie) -> int:
    """Most alpha tests durable may hold pending while a fact descends from a test with these children.

    durable walks alpha tests depth first with a fixed stack: a passed test pushes every child the fact
    passes, and the siblings wait while the first child's subtree is walked.
    """
    if not children:
        return 1
    waiting = _matchable(children) - 1
    return max(waiting + _peak(grandchildren) for grandchildren in children.values())


def _check_pending(rules: Sequence[CompiledRule], name: str) -> None:
    chains: dict[str, list[tuple[Test, ...]]] = defaultdict(list)
    for rule in rules:
        for pattern in rule.patterns:
            chains[pattern.kind].extend(branch[1:] for branch in _branches(pattern))
    for kind, below_kind in chains.items():
        pending = _peak(_trie(below_kind))
        if pending > MAX_PENDING_ALPHA_TESTS:
            raise EngineError(
                f"ruleset {name!r}: a fact of kind {kind!r} may pass {pending} alpha tests at once; at most "
                f"{MAX_PENDING_ALPHA_TESTS} are allowed because durable-rules fails at 64. Start patterns of "
                "this kind with an equality test (alternatives then exclude each other) or merge thresholds"
            )
