"""Back-test results counted as they stream in: per rule and in total, and who changed between rule sets.

Only counters and a bounded sample of changed patients are kept; every change goes to `on_change` (the
CSV file) as it is found, so memory does not grow with the population.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cds.frozen import Frozen
from cds.rulebook.model import Rulebook
from cds.workbench.worker import CardSet, PatientOutcome

TOPS = ("none", "info", "warning", "critical")
EXAMPLES_KEPT = 100
ERRORS_KEPT = 20


class RuleStats(Frozen):
    rule_id: str
    title: str
    indicator: str
    cards: int
    rate: float
    """Cards per patient evaluated."""
    by_indicator: dict[str, int]


class RulesetStats(Frozen):
    rules_dir: str
    version: str
    patients_evaluated: int
    patients_with_cards: int
    patients_by_top_indicator: dict[str, int]
    cards_by_indicator: dict[str, int]
    rules: list[RuleStats]


class PatientChange(Frozen):
    patient_id: str
    source: str
    before_top: str
    after_top: str
    before_cards: list[str]
    after_cards: list[str]
    why: str
    """The deciding evidence, in one line (`cds.workbench.why`)."""


class RuleChange(Frozen):
    rule_id: str
    gained: int
    """Patients who get this rule's card under the current rules but not under the baseline."""
    lost: int


class ChangeStats(Frozen):
    patients_changed: int
    top_indicator_changed: int
    cards_changed: int
    transitions: dict[str, int]
    """Top indicator before -> after, for the patients whose top indicator changed."""
    rules: list[RuleChange]
    examples: list[PatientChange]
    """The first patients changed, by id; all of them are in the changes file."""


def top_of(cards: CardSet) -> str:
    """The most urgent indicator among the cards, "none" without cards."""
    return max((indicator for _, indicator in cards), key=TOPS.index, default="none")


@dataclass
class _RulesetCounts:
    evaluated: int = 0
    with_cards: int = 0
    tops: Counter[str] = field(default_factory=Counter)
    by_indicator: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, cards: CardSet) -> None:
        self.evaluated += 1
        self.with_cards += bool(cards)
        self.tops[top_of(cards)] += 1
        for rule_id, indicator in cards:
            self.by_indicator[indicator] += 1
            self.by_rule[(rule_id, indicator)] += 1

    def stats(self, rulebook: Rulebook, rules_dir: str) -> RulesetStats:
        rules = []
        for rule in rulebook.rules:
            counts = {i: n for (r, i), n in self.by_rule.items() if r == rule.id}
            total = sum(counts.values())
            rules.append(
                RuleStats(
                    rule_id=rule.id,
                    title=rule.spec.title,
                    indicator=rule.indicator,
                    cards=total,
                    rate=total / self.evaluated if self.evaluated else 0.0,
                    by_indicator=counts,
                )
            )
        return RulesetStats(
            rules_dir=rules_dir,
            version=rulebook.version,
            patients_evaluated=self.evaluated,
            patients_with_cards=self.with_cards,
            patients_by_top_indicator={top: self.tops[top] for top in TOPS},
            cards_by_indicator={i: self.by_indicator[i] for i in TOPS[1:]},
            rules=rules,
        )


class Tally:
    """Outcomes in any order in, report sections out; rule set 0 is current, 1 (if any) the baseline."""

    def __init__(self, rulesets: int, on_change: Callable[[PatientChange], None] | None = None) -> None:
        self._counts = [_RulesetCounts() for _ in range(rulesets)]
        self._on_change = on_change
        self.patients = 0
        self.errors = 0
        self.error_examples: list[str] = []
        self._changed = 0
        self._top_changed = 0
        self._cards_changed = 0
        self._transitions: Counter[str] = Counter()
        self._gained: Counter[str] = Counter()
        self._lost: Counter[str] = Counter()
        self._examples: list[PatientChange] = []

    def add(self, outcome: PatientOutcome) -> None:
        self.patients += 1
        if outcome.error is not None:
            self.errors += 1
            if len(self.error_examples) < ERRORS_KEPT:
                self.error_examples.append(f"{outcome.label}: {outcome.error}")
            return
        for counts, cards in zip(self._counts, outcome.cards, strict=True):
            counts.add(cards)
        if len(outcome.cards) == 2:
            self._compare(outcome, after=outcome.cards[0], before=outcome.cards[1])

    def _compare(self, outcome: PatientOutcome, *, after: CardSet, before: CardSet) -> None:
        after_rules, before_rules = {r for r, _ in after}, {r for r, _ in before}
        after_top, before_top = top_of(after), top_of(before)
        if after_rules == before_rules and after_top == before_top:
            return
        self._changed += 1
        self._cards_changed += after_rules != before_rules
        if after_top != before_top:
            self._top_changed += 1
            self._transitions[f"{before_top} -> {after_top}"] += 1
        self._gained.update(after_rules - before_rules)
        self._lost.update(before_rules - after_rules)
        change = PatientChange(
            patient_id=outcome.patient_id or outcome.label,
            source=outcome.label,
            before_top=before_top,
            after_top=after_top,
            before_cards=sorted(before_rules),
            after_cards=sorted(after_rules),
            why=outcome.why,
        )
        if self._on_change is not None:
            self._on_change(change)
        self._keep_example(change)

    def _keep_example(self, change: PatientChange) -> None:
        """Keeps the EXAMPLES_KEPT smallest patient ids, so the sample does not depend on timing."""
        if len(self._examples) == EXAMPLES_KEPT and change.patient_id >= self._examples[-1].patient_id:
            return
        bisect.insort(self._examples, change, key=lambda c: c.patient_id)
        del self._examples[EXAMPLES_KEPT:]

    def ruleset(self, index: int, rulebook: Rulebook, rules_dir: str) -> RulesetStats:
        return self._counts[index].stats(rulebook, rules_dir)

    def changes(self, current: Rulebook, baseline: Rulebook) -> ChangeStats:
        rule_ids = [r.id for r in current.rules] + [r.id for r in baseline.rules]
        return ChangeStats(
            patients_changed=self._changed,
            top_indicator_changed=self._top_changed,
            cards_changed=self._cards_changed,
            transitions=dict(self._transitions.most_common()),
            rules=[
                RuleChange(rule_id=rule_id, gained=self._gained[rule_id], lost=self._lost[rule_id])
                for rule_id in dict.fromkeys(rule_ids)
            ],
            examples=list(self._examples),
        )
