"""Rules that differ only in their last pattern run as one durable rule, and still activate one by one."""

import pytest

from cds.engine import CompiledRule, Engine, Pattern, Scalar, Test
from cds.engine.compiler import compile_rules
from cds.engine.durable_host import DurableRuleset

pytestmark = pytest.mark.timeout(60)

Fact = dict[str, Scalar]

SYMPTOM = Pattern(kind="symptom")


def eq(field: str, value: Scalar) -> Test:
    return Test(field=field, op="eq", value=value)


def lab_rule(key: str, *tests: Test) -> CompiledRule:
    return CompiledRule(key=key, patterns=(SYMPTOM, Pattern(kind="lab", all=tests)))


def activations(rules: list[CompiledRule], facts: list[Fact]) -> list[tuple[str, tuple[str, ...]]]:
    engine = Engine(rules, name="t")
    try:
        return [(a.rule_key, a.fact_ids) for a in engine.evaluate(facts)]
    finally:
        engine.close()


def test_alternatives_that_exclude_each_other_share_one_durable_rule() -> None:
    rules = [lab_rule(f"r{index}", eq("analyte", name)) for index, name in enumerate(["k", "mg", "ca"])]

    assert len(compile_rules(rules, name="t").rules) == 1


def test_each_alternative_activates_for_the_fact_that_passes_it() -> None:
    rules = [
        lab_rule("flagged", eq("analyte", "mg"), eq("flag", "low")),
        lab_rule("below", eq("analyte", "mg"), eq("flag", "none"), Test(field="value", op="lt", value=1.7)),
        lab_rule("potassium", eq("analyte", "k"), eq("flag", "low")),
    ]
    facts: list[Fact] = [
        {"id": "s", "kind": "symptom"},
        {"id": "mg-flagged", "kind": "lab", "analyte": "mg", "flag": "low"},
        {"id": "mg-low", "kind": "lab", "analyte": "mg", "flag": "none", "value": 1.3},
        {"id": "mg-ok", "kind": "lab", "analyte": "mg", "flag": "none", "value": 2.0},
        {"id": "k-high", "kind": "lab", "analyte": "k", "flag": "high"},
    ]

    assert activations(rules, facts) == [("below", ("s", "mg-low")), ("flagged", ("s", "mg-flagged"))]


def test_alternatives_a_fact_may_pass_together_keep_their_own_durable_rules() -> None:
    rules = [
        lab_rule("low", Test(field="value", op="lt", value=3.5)),
        lab_rule("very-low", Test(field="value", op="lt", value=2.5)),
    ]
    facts: list[Fact] = [{"id": "s", "kind": "symptom"}, {"id": "l", "kind": "lab", "value": 2.0}]

    assert len(compile_rules(rules, name="t").rules) == 2
    assert activations(rules, facts) == [("low", ("s", "l")), ("very-low", ("s", "l"))]


def test_rules_with_the_same_patterns_share_one_durable_rule_and_each_activates() -> None:
    blocker = Pattern(kind="problem", all=(eq("group", "context"),))
    rules = [CompiledRule(key=key, patterns=(blocker,)) for key in ("a!0", "b!0", "c!1")]

    assert len(compile_rules(rules, name="t").rules) == 1
    assert activations(rules, [{"id": "p", "kind": "problem", "group": "context"}]) == [
        ("a!0", ("p",)),
        ("b!0", ("p",)),
        ("c!1", ("p",)),
    ]


def test_many_alternatives_are_split_to_fit_durables_condition_size() -> None:
    rules = [lab_rule(f"r{index:02}", eq("analyte", f"a{index}"), eq("flag", "low")) for index in range(40)]
    program = compile_rules(rules, name="t")
    facts: list[Fact] = [{"id": "s", "kind": "symptom"}]
    facts += [
        {"id": f"l{index:02}", "kind": "lab", "analyte": f"a{index}", "flag": "low"} for index in range(40)
    ]

    assert 1 < len(program.rules) < 40
    DurableRuleset([rule.conditions for rule in program.rules], label="t").close()
    assert activations(rules, facts) == [(f"r{index:02}", ("s", f"l{index:02}")) for index in range(40)]
