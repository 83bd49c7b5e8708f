"""The engine's public face: compile a ruleset once, then evaluate facts statelessly."""

import threading
from collections.abc import Mapping, Sequence

from cds.engine.compiler import compile_rules
from cds.engine.durable_host import DurableRuleset
from cds.engine.envelope import prepare
from cds.engine.patterns import Activation, CompiledRule, Scalar

PARTIAL_RULESETS_KEPT = 32
"""Rulesets of part of the rules an engine builds as calls need them; past this, calls use the whole."""


class Engine:
    """A ruleset registered with durable-rules, safe to evaluate from many threads at once.

    Several engines may live in one process (hot reload builds the new one while the old one serves).
    An engine holds its durable rulesets (about 0.5 MB for 30 rules, its partial ones about 12 MB at
    most) until `close()` frees them.

    A durable session costs in proportion to the rules of its ruleset, whatever the facts (starting
    one touches memory for every rule and evicts caches, docs/bench.md), and only the rules whose
    fact kinds are all in a call can fire. So a call runs in a ruleset of just those rules, built the
    first time a call needs that set (0.3-0.5 ms for 12-17 rules) and kept, at most
    `PARTIAL_RULESETS_KEPT` of them; a call whose facts can complete no rule starts no session. Rule
    alternatives that differ only in their last pattern share one durable rule (`cds.engine.grouping`:
    42 compiled rules are 14 durable ones).
    """

    def __init__(self, rules: Sequence[CompiledRule], *, name: str) -> None:
        self._name = name
        self._program = compile_rules(rules, name=name)
        self._ruleset = DurableRuleset([rule.conditions for rule in self._program.rules], label=name)
        self._partial: dict[tuple[int, ...], DurableRuleset] = {}
        self._rules_for: dict[frozenset[str], tuple[int, ...]] = {}
        """The rules facts of these kinds could complete, by kinds: at most one entry per subset of
        the program's kinds (a few hundred), each worked out once instead of on every call."""
        self._building = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def evaluate(self, facts: Sequence[Mapping[str, Scalar]]) -> list[Activation]:
        """Every way each rule is satisfied by distinct facts, sorted by rule key then fact ids.

        Each call is independent of every other: nothing of `facts` is kept.
        """
        batch = prepare(facts, self._program)
        rules = self._rules_for.get(batch.kinds)
        if rules is None:
            rules = self._rules_for[batch.kinds] = self._program.rules_for(batch.kinds)
        if not rules:
            self._ruleset.check_open()
            return []
        ruleset, numbers = self._ruleset_of(rules)
        keys, ids, program_rules, coded = self._program.keys, batch.ids, self._program.rules, batch.facts
        matches = {
            (keys[index], tuple([ids[position] for position in facts]))
            for rule, facts in ruleset.run(coded)
            for index in program_rules[numbers[rule]].fired(facts, coded)
        }
        return [Activation(rule_key=key, fact_ids=fact_ids) for key, fact_ids in sorted(matches)]

    def _ruleset_of(self, rules: tuple[int, ...]) -> tuple[DurableRuleset, Sequence[int]]:
        """The ruleset holding `rules`, and the program's number of each of its rules."""
        everything = range(len(self._program.rules))
        if len(rules) == len(everything):
            return self._ruleset, everything
        partial = self._partial.get(rules)
        if partial is None:
            with self._building:
                self._ruleset.check_open()
                partial = self._partial.get(rules)
                if partial is None:
                    if len(self._partial) >= PARTIAL_RULESETS_KEPT:
                        return self._ruleset, everything
                    conditions = [self._program.rules[index].conditions for index in rules]
                    partial = self._partial[rules] = DurableRuleset(conditions, label=self._name)
        return partial, rules

    def close(self) -> None:
        """Free the durable rulesets once no request uses this engine; later calls raise EngineError."""
        with self._building:
            self._ruleset.close()
            for partial in self._partial.values():
                partial.close()
