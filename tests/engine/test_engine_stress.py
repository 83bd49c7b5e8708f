"""The engine under load: threads, long runs, engine churn, and agreement with a plain Python evaluator."""

import itertools
import operator
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds.engine import CompiledRule, Engine, Pattern, Scalar, Test

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

Fact = dict[str, Scalar]
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
VALUES: list[Scalar] = [0, 1, 1.5, -2, 5e-05, 1e16, True, False, "a", "b", "", "1"]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def clinical_rules() -> list[CompiledRule]:
    low_k = Pattern(
        kind="lab",
        all=(Test(field="analyte", op="eq", value="potassium"),),
        any=((Test(field="value", op="lt", value=3.5),), (Test(field="value", op="gt", value=5.0),)),
    )
    return [
        CompiledRule(key="abnormal-k", patterns=(low_k,)),
        CompiledRule(key="spasm-with-flag", patterns=(Pattern(kind="symptom"), Pattern(kind="red_flag"))),
        CompiledRule(
            key="anxious",
            patterns=(Pattern(kind="assessment", all=(Test(field="gad7", op="ge", value=10),)),),
        ),
    ]


def patient_facts(seed: int, count: int) -> list[Fact]:
    chooser = random.Random(seed)
    facts: list[Fact] = []
    for index in range(count):
        kind = chooser.choice(["lab", "symptom", "red_flag", "assessment", "medication"])
        facts.append(
            {
                "id": f"f{index}",
                "kind": kind,
                "analyte": chooser.choice(["potassium", "sodium"]),
                "value": round(chooser.uniform(2.5, 6.5), 2),
                "gad7": chooser.randint(0, 21),
            }
        )
    return facts


def test_concurrent_evaluations_on_two_engines_match_sequential_ones() -> None:
    engines = [Engine(clinical_rules(), name="old"), Engine(clinical_rules()[:2], name="new")]
    batches = [patient_facts(seed, 30) for seed in range(8)]
    expected = [engines[thread % 2].evaluate(batch) for thread, batch in enumerate(batches)]
    mismatches: list[int] = []
    start = threading.Barrier(8)

    def work(thread: int) -> None:
        start.wait()
        for _ in range(200):
            if engines[thread % 2].evaluate(batches[thread]) != expected[thread]:
                mismatches.append(thread)

    threads = [threading.Thread(target=work, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(expected)
    assert mismatches == []


def test_memory_stays_flat_over_3000_evaluations() -> None:
    engine = Engine(clinical_rules(), name="t")
    batch = patient_facts(1, 20)
    for _ in range(300):
        engine.evaluate(batch)
    before = rss_mb()
    for _ in range(3000):
        engine.evaluate(batch)
    after = rss_mb()

    print(f"RSS over 3000 evaluations: {before:.1f} MB -> {after:.1f} MB")
    assert after - before < 5


def test_closing_engines_returns_their_memory() -> None:
    rules = [
        CompiledRule(
            key=f"r{index}",
            patterns=(Pattern(kind=f"k{index}", all=(Test(field="x", op="gt", value=index),)),),
        )
        for index in range(30)
    ]
    for _ in range(50):
        Engine(rules, name="warm-up").close()
    before = rss_mb()
    for _ in range(500):
        engine = Engine(rules, name="reloaded")
        engine.evaluate([{"id": "f", "kind": "k1", "x": 5}])
        engine.close()
    after = rss_mb()

    print(f"RSS over 500 engines built and closed: {before:.1f} MB -> {after:.1f} MB")
    assert after - before < 10


def reference_activations(rules: list[CompiledRule], facts: list[Fact]) -> list[tuple[str, tuple[str, ...]]]:
    """A deliberately naive evaluator: every ordered choice of distinct facts, tested one by one."""

    def same_type(left: Scalar, right: Scalar) -> bool:
        def kind_of(value: Scalar) -> str:
            return "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else "number"

        return kind_of(left) == kind_of(right)

    def passes(test: Test, fact: Fact) -> bool:
        if test.field not in fact or not same_type(fact[test.field], test.value):
            return False
        return bool(OPERATORS[test.op](fact[test.field], test.value))

    def fits(pattern: Pattern, fact: Fact) -> bool:
        return (
            fact["kind"] == pattern.kind
            and all(passes(test, fact) for test in pattern.all)
            and (not pattern.any or any(all(passes(test, fact) for test in group) for group in pattern.any))
        )

    found = {
        (rule.key, tuple(str(fact["id"]) for fact in chosen))
        for rule in rules
        for chosen in itertools.permutations(facts, len(rule.patterns))
        if all(fits(pattern, fact) for pattern, fact in zip(rule.patterns, chosen, strict=True))
    }
    return sorted(found)


def assert_agrees_with_reference(rules: list[CompiledRule], facts: list[Fact]) -> None:
    engine = Engine(rules, name="differential")
    try:
        assert [(a.rule_key, a.fact_ids) for a in engine.evaluate(facts)] == reference_activations(
            rules, facts
        )
    finally:
        engine.close()


fields = st.sampled_from(["x", "y", "z"])
kinds = st.sampled_from(["a", "b", "c"])
tests = st.builds(Test, field=fields, op=st.sampled_from(list(OPERATORS)), value=st.sampled_from(VALUES))
patterns = st.builds(
    Pattern,
    kind=kinds,
    all=st.lists(tests, max_size=2).map(tuple),
    any=st.lists(st.lists(tests, min_size=1, max_size=2).map(tuple), max_size=3).map(tuple),
)
rule_lists = st.lists(st.lists(patterns, min_size=1, max_size=3), min_size=1, max_size=3).map(
    lambda rules: [CompiledRule(key=f"r{index}", patterns=tuple(ps)) for index, ps in enumerate(rules)]
)
fact_lists = st.lists(
    st.fixed_dictionaries(
        {"kind": kinds}, optional={"x": st.sampled_from(VALUES), "y": st.sampled_from(VALUES)}
    ),
    max_size=6,
).map(lambda facts: [{"id": f"f{index}", **fact} for index, fact in enumerate(facts)])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_lists, facts=fact_lists)
def test_engine_agrees_with_a_reference_evaluator(rules: list[CompiledRule], facts: list[Fact]) -> None:
    assert_agrees_with_reference(rules, facts)


grouping_values = st.sampled_from(["a", "b", "c", 1, 2.5, True])
last_tests = st.lists(
    st.builds(
        Test,
        field=st.sampled_from(["x", "y"]),
        op=st.sampled_from(["eq", "eq", "ne", "gt"]),
        value=grouping_values,
    ),
    max_size=3,
).map(tuple)
grouping_leads = st.sampled_from(
    [(), (Pattern(kind="symptom"),), (Pattern(kind="lab", all=(Test(field="x", op="eq", value="a"),)),)]
)
grouping_rule_lists = st.lists(
    st.tuples(grouping_leads, st.sampled_from(["lab", "problem"]), last_tests), min_size=1, max_size=8
).map(
    lambda specs: [
        CompiledRule(key=f"r{index}", patterns=(*lead, Pattern(kind=kind, all=tests)))
        for index, (lead, kind, tests) in enumerate(specs)
    ]
)
grouping_fact_lists = st.lists(
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["symptom", "lab", "problem"])},
        optional={"x": grouping_values, "y": grouping_values},
    ),
    max_size=5,
).map(lambda facts: [{"id": f"f{index}", **fact} for index, fact in enumerate(facts)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=grouping_rule_lists, facts=grouping_fact_lists)
def test_rules_sharing_durable_rules_agree_with_a_reference_evaluator(
    rules: list[CompiledRule], facts: list[Fact]
) -> None:
    """Alternatives on one field, so that many rules share a durable rule (`cds.engine.grouping`)."""
    assert_agrees_with_reference(rules, facts)
