"""What the engine accepts as a ruleset, and how engines live side by side."""

import threading

import pytest
from pydantic import ValidationError

from cds.engine import CompiledRule, Engine, EngineError, Pattern, Scalar, Test

pytestmark = pytest.mark.timeout(30)


def gt(value: int, field: str = "x") -> Test:
    return Test(field=field, op="gt", value=value)


def rules_with_alpha_tests(count: int) -> list[CompiledRule]:
    """Two alpha tests a rule: its own kind and one threshold."""
    return [
        CompiledRule(key=f"r{index}", patterns=(Pattern(kind=f"k{index}", all=(gt(index),)),))
        for index in range(count // 2)
    ]


def sibling_rules(count: int) -> list[CompiledRule]:
    """Rules whose threshold tests all follow the same kind test, so one fact may pass all of them."""
    return [
        CompiledRule(key=f"r{index}", patterns=(Pattern(kind="k", all=(gt(index),)),))
        for index in range(count)
    ]


def test_ruleset_at_the_alpha_test_limit_evaluates() -> None:
    engine = Engine(rules_with_alpha_tests(400), name="t")
    facts: list[dict[str, Scalar]] = [
        {"id": f"f{index}", "kind": f"k{index}", "x": 1000} for index in range(200)
    ]

    assert len(engine.evaluate(facts)) == 200


def test_too_many_alpha_tests_are_refused_before_durable_sees_them() -> None:
    with pytest.raises(EngineError, match=r"ruleset 'big' needs 402 alpha tests.*at most 400.*hangs at 512"):
        Engine(rules_with_alpha_tests(402), name="big")


def test_any_groups_repeat_the_all_tests_in_the_alpha_count() -> None:
    groups = tuple((gt(index, "y"),) for index in range(80))
    pattern = Pattern(kind="k", all=(gt(1), gt(2), gt(3), gt(4)), any=groups)

    with pytest.raises(EngineError, match=r"needs 480 alpha tests.*Largest rules: wide \(480\)"):
        Engine([CompiledRule(key="wide", patterns=(pattern,))], name="t")


def test_fact_may_pass_48_sibling_tests_at_once() -> None:
    engine = Engine(sibling_rules(48), name="t")

    assert len(engine.evaluate([{"id": "f", "kind": "k", "x": 1000}])) == 48


def test_more_sibling_tests_than_durable_can_hold_pending_are_refused() -> None:
    with pytest.raises(EngineError, match=r"a fact of kind 'k' may pass 49 alpha tests at once; at most 48"):
        Engine(sibling_rules(49), name="t")


def test_equality_tests_on_one_field_count_once_towards_pending_tests() -> None:
    rules = [
        CompiledRule(
            key=f"low-{analyte}",
            patterns=(Pattern(kind="lab", all=(Test(field="analyte", op="eq", value=f"a{analyte}"), gt(1))),),
        )
        for analyte in range(100)
    ]
    engine = Engine(rules, name="t")

    assert [a.rule_key for a in engine.evaluate([{"id": "f", "kind": "lab", "analyte": "a7", "x": 2}])] == [
        "low-7"
    ]


def test_eight_patterns_in_one_rule_are_joined() -> None:
    patterns = tuple(Pattern(kind=f"k{index}") for index in range(8))
    engine = Engine([CompiledRule(key="r", patterns=patterns)], name="t")
    facts: list[dict[str, Scalar]] = [{"id": f"f{index}", "kind": f"k{index}"} for index in range(8)]

    assert [activation.fact_ids for activation in engine.evaluate(facts)] == [
        tuple(f"f{i}" for i in range(8))
    ]


def test_more_than_eight_patterns_in_one_rule_are_refused() -> None:
    patterns = tuple(Pattern(kind=f"k{index}") for index in range(9))

    with pytest.raises(EngineError, match="rule 'long' has 9 patterns; at most 8"):
        Engine([CompiledRule(key="long", patterns=patterns)], name="t")


def test_too_many_pattern_branches_are_refused() -> None:
    rules = [CompiledRule(key=f"r{index}", patterns=(Pattern(kind="k"),)) for index in range(201)]

    with pytest.raises(EngineError, match=r"ruleset 't' has 201 pattern branches.*at most 200"):
        Engine(rules, name="t")


def two_test_groups(count: int) -> Pattern:
    """A pattern whose durable condition needs 4 `$and`/`$or` entries plus 2 for each group."""
    return Pattern(kind="k", any=tuple((gt(index), gt(index, "y")) for index in range(count)))


def test_pattern_with_as_many_and_or_entries_as_durable_holds_evaluates() -> None:
    engine = Engine([CompiledRule(key="wide", patterns=(two_test_groups(13),))], name="t")

    assert len(engine.evaluate([{"id": "f", "kind": "k", "x": 1000, "y": 1000}])) == 1


def test_pattern_with_more_and_or_entries_than_durable_holds_is_refused_naming_it() -> None:
    rule = CompiledRule(key="wide", patterns=(Pattern(kind="j"), two_test_groups(14)))

    with pytest.raises(
        EngineError,
        match=r"rule 'wide', pattern 2 \(kind 'k'\).* needs 32 `\$and`/`\$or` entries.*at most 30.*error 113",
    ):
        Engine([rule], name="t")


def test_duplicate_rule_keys_are_refused() -> None:
    rule = CompiledRule(key="red-flag#0", patterns=(Pattern(kind="k"),))

    with pytest.raises(EngineError, match="ruleset 't': rule key 'red-flag#0' is used twice"):
        Engine([rule, rule], name="t")


@pytest.mark.parametrize("field", ["Systolic", "a.b", "1x", "", "x" * 65])
def test_test_field_must_be_a_short_identifier(field: str) -> None:
    with pytest.raises(ValidationError):
        Test(field=field, op="eq", value=1)


def test_bad_field_name_built_without_validation_is_refused_by_the_engine() -> None:
    pattern = Pattern.model_construct(
        kind="k", all=(Test.model_construct(field="a.b", op="eq", value=1),), any=()
    )

    with pytest.raises(EngineError, match=r"rule 'dotted': patterns\.0\.all\.0\.field"):
        Engine([CompiledRule.model_construct(key="dotted", patterns=(pattern,))], name="t")


def test_rule_without_patterns_cannot_be_built() -> None:
    with pytest.raises(ValidationError, match="needs at least one item"):
        CompiledRule(key="empty", patterns=())


def test_empty_any_group_cannot_be_built() -> None:
    with pytest.raises(ValidationError, match="needs at least one item"):
        Pattern(kind="k", any=((),))


def test_empty_ruleset_gives_no_activations() -> None:
    assert Engine([], name="t").evaluate([{"id": "f", "kind": "k"}]) == []


def test_engine_reports_its_name() -> None:
    assert Engine([], name="spasm-rules v3").name == "spasm-rules v3"


def test_two_engines_with_the_same_name_evaluate_their_own_rules() -> None:
    old = Engine([CompiledRule(key="old", patterns=(Pattern(kind="k", all=(gt(5),)),))], name="rules")
    new = Engine([CompiledRule(key="new", patterns=(Pattern(kind="k", all=(gt(50),)),))], name="rules")
    facts: list[dict[str, Scalar]] = [{"id": "a", "kind": "k", "x": 10}, {"id": "b", "kind": "k", "x": 100}]

    assert [(a.rule_key, a.fact_ids) for a in old.evaluate(facts)] == [("old", ("a",)), ("old", ("b",))]
    assert [(a.rule_key, a.fact_ids) for a in new.evaluate(facts)] == [("new", ("b",))]


def test_closed_engine_refuses_to_evaluate() -> None:
    engine = Engine([CompiledRule(key="r", patterns=(Pattern(kind="k"),))], name="retired")
    engine.close()

    with pytest.raises(EngineError, match="engine 'retired' is closed"):
        engine.evaluate([{"id": "f", "kind": "k"}])


def test_closing_twice_is_harmless() -> None:
    engine = Engine([], name="t")
    engine.close()
    engine.close()


def test_closing_one_engine_leaves_another_working() -> None:
    rules = [CompiledRule(key="r", patterns=(Pattern(kind="k"),))]
    closed, kept = Engine(rules, name="t"), Engine(rules, name="t")
    closed.close()

    assert len(kept.evaluate([{"id": "f", "kind": "k"}])) == 1


def test_engine_starts_no_background_threads() -> None:
    before = set(threading.enumerate())
    engine = Engine([CompiledRule(key="r", patterns=(Pattern(kind="k"),))], name="t")
    engine.evaluate([{"id": "f", "kind": "k"}])

    assert set(threading.enumerate()) == before
