"""Values that would corrupt durable-rules never reach it: odd floats, wide facts, malformed facts."""

import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cds.engine import CompiledRule, Engine, EngineError, Pattern, Scalar, Test
from cds.engine.compiler import compile_rules
from cds.engine.envelope import prepare
from cds.engine.serialise import Codebook

pytestmark = pytest.mark.timeout(60)

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
numbers = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.booleans(), numbers, st.text(max_size=5))


def engine_with_test(field: str = "x", op: str = "gt", value: Scalar = 1) -> Engine:
    test = Test.model_validate({"field": field, "op": op, "value": value})
    return Engine([CompiledRule(key="r", patterns=(Pattern(kind="k", all=(test,)),))], name="t")


def leaves(tree: object) -> list[object]:
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves(value)]
    if isinstance(tree, list | tuple):
        return [leaf for value in tree for leaf in leaves(value)]
    return [tree]


@pytest.mark.parametrize(
    "domain", [st.booleans(), numbers, st.text(max_size=5)], ids=["bool", "number", "string"]
)
@given(data=st.data())
def test_codes_compare_exactly_like_python_values(
    domain: st.SearchStrategy[Scalar], data: st.DataObject
) -> None:
    thresholds = data.draw(st.lists(domain, min_size=1, max_size=8))
    value = data.draw(st.one_of(domain, st.sampled_from(thresholds)))
    codebook = Codebook(thresholds)

    for threshold in thresholds:
        for name, compare in COMPARISONS.items():
            assert compare(codebook.code(value), codebook.code(threshold)) == compare(value, threshold), name


@given(thresholds=st.lists(scalars, max_size=8), value=scalars)
def test_codes_are_plain_non_negative_ints(thresholds: list[Scalar], value: Scalar) -> None:
    code = Codebook(thresholds).code(value)

    assert type(code) is int
    assert code >= 0


def test_compiled_conditions_and_coded_facts_hold_only_ints_and_names() -> None:
    tests = (
        Test(field="x", op="gt", value=5e-05),
        Test(field="y", op="le", value=1e16),
        Test(field="z", op="eq", value="a"),
    )
    program = compile_rules([CompiledRule(key="r", patterns=(Pattern(kind="k", all=tests),))], name="t")
    batch = prepare([{"id": "f", "kind": "k", "x": 1e-300, "y": 1.5e300, "z": 'q"\\'}], program)

    values = leaves([rule.conditions for rule in program.rules]) + leaves(batch.facts)
    assert values
    assert all(type(value) is int for value in values)


def test_exponent_floats_in_facts_and_thresholds_match_and_do_not_crash(
    run_isolated: Callable[[str], str],
) -> None:
    output = run_isolated(
        """
        from cds.engine import CompiledRule, Engine, Pattern, Test
        def rule(key, op, value):
            pattern = Pattern(kind="k", all=(Test(field="x", op=op, value=value),))
            return CompiledRule(key=key, patterns=(pattern,))
        rules = [rule("tiny", "gt", 5e-05), rule("huge", "ge", 1e16)]
        engine = Engine(rules, name="t")
        facts = [
            {"id": "a", "kind": "k", "x": 5e-05},
            {"id": "b", "kind": "k", "x": 1e-04},
            {"id": "c", "kind": "k", "x": 1e16},
            {"id": "d", "kind": "k", "x": 2.5e-300},
            {"id": "e", "kind": "k", "x": 1.7e308},
        ]
        results = {repr([(a.rule_key, a.fact_ids) for a in engine.evaluate(facts)]) for _ in range(200)}
        print(results.pop(), len(results))
        """
    )

    expected = [("huge", ("c",)), ("huge", ("e",)), ("tiny", ("b",)), ("tiny", ("c",)), ("tiny", ("e",))]
    assert output.strip() == f"{expected!r} 0"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_fact_value_is_refused(value: float) -> None:
    engine = engine_with_test()

    with pytest.raises(EngineError, match="fact 'f' field 'x': expected a finite number"):
        engine.evaluate([{"id": "f", "kind": "k", "x": value}])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_threshold_cannot_be_built(value: float) -> None:
    with pytest.raises(ValidationError, match="finite number"):
        Test(field="x", op="gt", value=value)


def test_non_finite_threshold_built_without_validation_is_refused_by_the_engine() -> None:
    test = Test.model_construct(field="x", op="gt", value=float("nan"))
    pattern = Pattern.model_construct(kind="k", all=(test,), any=())
    rule = CompiledRule.model_construct(key="bad-rule", patterns=(pattern,))

    with pytest.raises(EngineError, match=r"rule 'bad-rule': patterns\.0\.all\.0\.value.*finite number"):
        Engine([rule], name="t")


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, None, b"x"])
def test_non_scalar_fact_value_is_refused(value: object) -> None:
    engine = engine_with_test()

    with pytest.raises(EngineError, match="fact 'f' field 'x': expected str, int, float or bool"):
        engine.evaluate([{"id": "f", "kind": "k", "x": value}])  # type: ignore[dict-item]


def wide_fact(field_count: int) -> dict[str, Scalar]:
    return {"id": "wide", "kind": "k", **{f"f{index}": index for index in range(field_count - 2)}}


def test_fact_with_200_fields_all_tested_is_evaluated() -> None:
    tests = tuple(Test(field=f"f{index}", op="ge", value=0) for index in range(198))
    engine = Engine([CompiledRule(key="r", patterns=(Pattern(kind="k", all=tests),))], name="t")

    assert [activation.fact_ids for activation in engine.evaluate([wide_fact(200)])] == [("wide",)]


@pytest.mark.parametrize("field_count", [201, 252, 253, 400])
def test_wide_fact_is_refused(field_count: int) -> None:
    engine = engine_with_test()

    with pytest.raises(EngineError, match=f"fact 'wide' has {field_count} fields; at most 200"):
        engine.evaluate([wide_fact(field_count)])


@pytest.mark.parametrize("name", ["Systolic", "a-b", "x\n", "", "$s", "9lives"])
def test_fact_field_name_must_be_an_identifier(name: str) -> None:
    engine = engine_with_test()

    with pytest.raises(EngineError, match="fact 'f': field name"):
        engine.evaluate([{"id": "f", "kind": "k", name: 1}])


@pytest.mark.parametrize("fact", [{"kind": "k"}, {"id": "", "kind": "k"}, {"id": 7, "kind": "k"}])
def test_fact_without_string_id_is_refused(fact: dict[str, Scalar]) -> None:
    with pytest.raises(EngineError, match="fact at index 1: field 'id' must be a non-empty string"):
        engine_with_test().evaluate([{"id": "ok", "kind": "k"}, fact])


@pytest.mark.parametrize("fact", [{"id": "f"}, {"id": "f", "kind": ""}, {"id": "f", "kind": 3}])
def test_fact_without_string_kind_is_refused(fact: dict[str, Scalar]) -> None:
    with pytest.raises(EngineError, match="fact 'f': field 'kind' must be a non-empty string"):
        engine_with_test().evaluate([fact])


def test_same_id_with_different_fields_is_refused() -> None:
    facts: list[dict[str, Scalar]] = [{"id": "f", "kind": "k", "x": 1}, {"id": "f", "kind": "k", "x": True}]

    with pytest.raises(EngineError, match="fact id 'f' is used by two facts with different fields"):
        engine_with_test().evaluate(facts)


def test_error_messages_never_quote_fact_values() -> None:
    with pytest.raises(EngineError) as caught:
        engine_with_test().evaluate([{"id": "f", "kind": "k", "x": ["patient-secret"]}])  # type: ignore[dict-item]

    assert "patient-secret" not in str(caught.value)
