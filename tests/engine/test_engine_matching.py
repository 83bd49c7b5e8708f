"""What an evaluation returns: joins, groups, comparisons, types and ordering."""

import json
import random

import pytest

from cds.engine import (
    Activation,
    CompiledRule,
    Engine,
    EngineError,
    Pattern,
    Scalar,
    Test,
    durable_host,
    runner,
)

pytestmark = pytest.mark.timeout(30)


def rule(key: str, *patterns: Pattern) -> CompiledRule:
    return CompiledRule(key=key, patterns=patterns)


def fact(fact_id: str, kind: str, **fields: Scalar) -> dict[str, Scalar]:
    return {"id": fact_id, "kind": kind, **fields}


def single_test_engine(op: str, threshold: Scalar) -> Engine:
    test = Test.model_validate({"field": "x", "op": op, "value": threshold})
    return Engine([rule("r", Pattern(kind="k", all=(test,)))], name="t")


def matches(engine: Engine, facts: list[dict[str, Scalar]]) -> list[tuple[str, tuple[str, ...]]]:
    return [(activation.rule_key, activation.fact_ids) for activation in engine.evaluate(facts)]


def test_single_pattern_rule_activates_once_per_matching_fact() -> None:
    engine = Engine(
        [rule("high", Pattern(kind="bp", all=(Test(field="systolic", op="ge", value=140),)))], name="t"
    )
    facts = [fact("a", "bp", systolic=150), fact("b", "bp", systolic=120), fact("c", "bp", systolic=140)]

    assert matches(engine, facts) == [("high", ("a",)), ("high", ("c",))]


def test_activations_are_activation_models() -> None:
    engine = Engine([rule("any-symptom", Pattern(kind="symptom"))], name="t")

    assert engine.evaluate([fact("s1", "symptom")]) == [Activation(rule_key="any-symptom", fact_ids=("s1",))]


def test_join_activates_for_every_combination_of_facts() -> None:
    engine = Engine([rule("pair", Pattern(kind="symptom"), Pattern(kind="red_flag"))], name="t")
    facts = [fact("s1", "symptom"), fact("s2", "symptom"), fact("f1", "red_flag"), fact("f2", "red_flag")]

    assert matches(engine, facts) == [
        ("pair", ("s1", "f1")),
        ("pair", ("s1", "f2")),
        ("pair", ("s2", "f1")),
        ("pair", ("s2", "f2")),
    ]


def test_one_fact_never_fills_two_patterns_of_a_rule() -> None:
    engine = Engine([rule("two-symptoms", Pattern(kind="symptom"), Pattern(kind="symptom"))], name="t")

    assert matches(engine, [fact("s1", "symptom")]) == []
    assert matches(engine, [fact("s1", "symptom"), fact("s2", "symptom")]) == [
        ("two-symptoms", ("s1", "s2")),
        ("two-symptoms", ("s2", "s1")),
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"site": "calf", "hours": 3}, True),
        ({"site": "calf", "hours": 1}, False),
        ({"site": "neck"}, True),
        ({"site": "back", "hours": 9}, False),
    ],
)
def test_any_matches_when_one_group_holds_entirely(fields: dict[str, Scalar], expected: bool) -> None:
    groups = (
        (Test(field="site", op="eq", value="calf"), Test(field="hours", op="gt", value=2)),
        (Test(field="site", op="eq", value="neck"),),
    )
    engine = Engine([rule("cramp", Pattern(kind="symptom", any=groups))], name="t")

    assert bool(engine.evaluate([fact("s1", "symptom", **fields)])) is expected


def test_any_and_all_must_both_hold() -> None:
    pattern = Pattern(
        kind="lab",
        all=(Test(field="analyte", op="eq", value="potassium"),),
        any=((Test(field="value", op="lt", value=3.5),), (Test(field="value", op="gt", value=5.0),)),
    )
    engine = Engine([rule("abnormal-k", pattern)], name="t")
    facts = [
        fact("low", "lab", analyte="potassium", value=3.1),
        fact("ok", "lab", analyte="potassium", value=4.2),
        fact("high", "lab", analyte="potassium", value=5.5),
        fact("other", "lab", analyte="sodium", value=3.1),
    ]

    assert matches(engine, facts) == [("abnormal-k", ("high",)), ("abnormal-k", ("low",))]


def test_fact_satisfying_two_any_groups_activates_once() -> None:
    groups = ((Test(field="x", op="gt", value=1),), (Test(field="x", op="gt", value=2),))
    engine = Engine([rule("r", Pattern(kind="k", any=groups))], name="t")

    assert matches(engine, [fact("f", "k", x=5)]) == [("r", ("f",))]


@pytest.mark.parametrize(
    ("op", "threshold", "value", "expected"),
    [
        ("eq", 5, 5, True),
        ("eq", 5, 5.0, True),
        ("eq", 5, 5.000001, False),
        ("ne", 5, 5, False),
        ("ne", 5, 4, True),
        ("lt", 5, 4.999, True),
        ("lt", 5, 5, False),
        ("lt", 5, 6, False),
        ("le", 5, 5, True),
        ("le", 5, 5.001, False),
        ("gt", 5, 5.001, True),
        ("gt", 5, 5, False),
        ("gt", 5, 4, False),
        ("ge", 5, 5, True),
        ("ge", 5, 4.999, False),
        ("gt", -2.5, -2.4, True),
        ("lt", -2.5, -2.5, False),
        ("ge", 0, -0.0, True),
        ("eq", 9007199254740993, 9007199254740993, True),
        ("gt", 9007199254740992, 9007199254740993, True),
    ],
)
def test_numeric_comparison_at_boundary(op: str, threshold: float, value: float, expected: bool) -> None:
    engine = single_test_engine(op, threshold)

    assert bool(engine.evaluate([fact("f", "k", x=value)])) is expected


@pytest.mark.parametrize(
    ("op", "threshold", "value", "expected"),
    [
        ("eq", "calf", "calf", True),
        ("eq", "calf", "Calf", False),
        ("ne", "calf", "thigh", True),
        ("lt", "b", "a", True),
        ("lt", "b", "b", False),
        ("ge", "b", "ba", True),
        ("eq", 'say "hi"\\\n', 'say "hi"\\\n', True),
        ("eq", "crampe musculaire é", "crampe musculaire é", True),
    ],
)
def test_string_comparison_follows_python(op: str, threshold: str, value: str, expected: bool) -> None:
    engine = single_test_engine(op, threshold)

    assert bool(engine.evaluate([fact("f", "k", x=value)])) is expected


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_absent_field_never_matches(op: str) -> None:
    engine = single_test_engine(op, 5)

    assert engine.evaluate([fact("f", "k", y=5)]) == []


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
@pytest.mark.parametrize("text", ["abc", "", "150 mmHg", "140"])
def test_string_value_never_matches_numeric_test(op: str, text: str) -> None:
    engine = single_test_engine(op, 140)

    assert engine.evaluate([fact("f", "k", x=text)]) == []


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_number_never_matches_string_test(op: str) -> None:
    engine = single_test_engine(op, "140")

    assert engine.evaluate([fact("f", "k", x=140)]) == []


@pytest.mark.parametrize("op", ["eq", "ge", "le"])
def test_bool_value_never_matches_numeric_one(op: str) -> None:
    engine = single_test_engine(op, 1)

    assert engine.evaluate([fact("f", "k", x=True)]) == []


def test_number_one_never_matches_bool_true() -> None:
    engine = Engine([rule("r", Pattern(kind="k", all=(Test(field="x", op="eq", value=True),)))], name="t")

    assert matches(engine, [fact("one", "k", x=1), fact("true", "k", x=True)]) == [("r", ("true",))]


def test_bool_false_matches_only_false() -> None:
    engine = Engine([rule("r", Pattern(kind="k", all=(Test(field="x", op="eq", value=False),)))], name="t")

    assert matches(engine, [fact("zero", "k", x=0), fact("no", "k", x=False), fact("yes", "k", x=True)]) == [
        ("r", ("no",))
    ]


def test_no_matching_fact_gives_empty_list() -> None:
    engine = Engine([rule("r", Pattern(kind="k", all=(Test(field="x", op="gt", value=5),)))], name="t")

    assert engine.evaluate([fact("f", "k", x=1)]) == []


def test_empty_batch_gives_empty_list() -> None:
    engine = Engine([rule("r", Pattern(kind="k"))], name="t")

    assert engine.evaluate([]) == []


def test_fact_no_rule_matches_does_not_hide_other_activations() -> None:
    engine = Engine(
        [
            rule("high", Pattern(kind="bp", all=(Test(field="systolic", op="gt", value=140),))),
            rule("low-k", Pattern(kind="lab", all=(Test(field="value", op="lt", value=3.5),))),
        ],
        name="t",
    )
    facts = [fact("bp1", "bp", systolic=160), fact("k1", "lab", value=4.0), fact("u1", "unrelated", value=1)]

    assert matches(engine, facts) == [("high", ("bp1",))]


def test_exact_duplicate_facts_count_once() -> None:
    engine = Engine([rule("pair", Pattern(kind="a"), Pattern(kind="b"))], name="t")
    facts = [fact("a1", "a", x=1), fact("b1", "b"), fact("a1", "a", x=1)]

    assert matches(engine, facts) == [("pair", ("a1", "b1"))]


def test_fields_named_like_durable_internals_are_ordinary_fields() -> None:
    engine = Engine([rule("r", Pattern(kind="k", all=(Test(field="sid", op="eq", value="0"),)))], name="t")
    facts = [fact("f", "k", sid="0", sentinel=1, sink=1), fact("g", "k", sid="1")]

    assert matches(engine, facts) == [("r", ("f",))]


def test_activations_are_sorted_by_rule_key_then_fact_ids() -> None:
    engine = Engine(
        [rule("zeta", Pattern(kind="a"), Pattern(kind="b")), rule("alpha", Pattern(kind="b"))], name="t"
    )
    facts = [fact(name, kind) for name, kind in [("b2", "b"), ("a9", "a"), ("b1", "b"), ("a10", "a")]]
    expected = [
        ("alpha", ("b1",)),
        ("alpha", ("b2",)),
        ("zeta", ("a10", "b1")),
        ("zeta", ("a10", "b2")),
        ("zeta", ("a9", "b1")),
        ("zeta", ("a9", "b2")),
    ]

    for seed in range(5):
        random.Random(seed).shuffle(facts)
        assert matches(engine, facts) == expected


def test_thousand_facts_in_one_evaluation() -> None:
    engine = Engine(
        [rule("high", Pattern(kind="lab", all=(Test(field="value", op="ge", value=500),)))], name="t"
    )
    facts = [fact(f"f{index:04d}", "lab", value=index) for index in range(1000)]

    activations = engine.evaluate(facts)

    assert [activation.fact_ids for activation in activations] == [
        (f"f{index:04d}",) for index in range(500, 1000)
    ]


def test_facts_that_complete_no_rule_start_no_durable_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine([rule("pair", Pattern(kind="symptom"), Pattern(kind="lab"))], name="t")
    sessions: list[object] = []
    real = durable_host.durable_rules_engine.assert_facts
    monkeypatch.setattr(
        durable_host.durable_rules_engine, "assert_facts", lambda *args: sessions.append(args) or real(*args)
    )

    assert matches(engine, [fact("s", "symptom"), fact("s2", "symptom")]) == []
    assert sessions == []
    assert matches(engine, [fact("s", "symptom"), fact("l", "lab")]) == [("pair", ("s", "l"))]
    assert len(sessions) == 1


def test_closed_engine_refuses_facts_that_could_complete_no_rule() -> None:
    engine = Engine([rule("pair", Pattern(kind="symptom"), Pattern(kind="lab"))], name="t")
    engine.close()

    with pytest.raises(EngineError, match="engine 't' is closed"):
        engine.evaluate([fact("s", "symptom")])


SYMPTOM_RULES = [
    rule("alone", Pattern(kind="symptom")),
    rule("with-lab", Pattern(kind="symptom"), Pattern(kind="lab")),
    rule("with-drug", Pattern(kind="symptom"), Pattern(kind="medication")),
]


def traced_rulesets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The definitions of the durable rulesets created from here on."""
    definitions: list[str] = []
    real = durable_host.durable_rules_engine.create_ruleset

    def create(name: str, definition: str) -> object:
        definitions.append(definition)
        return real(name, definition)

    monkeypatch.setattr(durable_host.durable_rules_engine, "create_ruleset", create)
    return definitions


def test_a_call_runs_in_a_ruleset_of_the_rules_its_fact_kinds_can_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine(SYMPTOM_RULES, name="t")
    created = traced_rulesets(monkeypatch)
    facts = [fact("s", "symptom"), fact("l", "lab")]

    assert matches(engine, facts) == [("alone", ("s",)), ("with-lab", ("s", "l"))]
    assert matches(engine, facts) == [("alone", ("s",)), ("with-lab", ("s", "l"))]
    assert [sorted(json.loads(definition)) for definition in created] == [["r0", "r1", "sentinel", "sink"]]


def test_past_the_kept_partial_rulesets_calls_use_the_whole_ruleset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "PARTIAL_RULESETS_KEPT", 1)
    engine = Engine(SYMPTOM_RULES, name="t")
    created = traced_rulesets(monkeypatch)

    assert matches(engine, [fact("s", "symptom"), fact("l", "lab")]) == [
        ("alone", ("s",)),
        ("with-lab", ("s", "l")),
    ]
    assert matches(engine, [fact("s", "symptom"), fact("m", "medication")]) == [
        ("alone", ("s",)),
        ("with-drug", ("s", "m")),
    ]
    assert len(created) == 1


def test_closing_an_engine_closes_its_partial_rulesets() -> None:
    engine = Engine(SYMPTOM_RULES, name="t")
    engine.evaluate([fact("s", "symptom")])
    engine.close()

    with pytest.raises(EngineError, match="engine 't' is closed"):
        engine.evaluate([fact("s", "symptom")])
