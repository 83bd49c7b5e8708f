"""Fact sets drawn directly, past the FHIR layer, near what the rules test.

Records reach the rules only through what the fact layer makes of them, and rarely sit on a rule's edge.
Here most facts are drawn near one pattern of one rule: each field the pattern tests gets the pattern's
own value, a value just across its threshold, or any other value the field can take. So a lab exactly
at, just under or just over a threshold, alone or beside another contributor, is common. Facts are built
with the fact models, so each one is valid.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from cds.facts.models import FACT_KINDS, Fact, WholeRecord
from cds.testing.clinical import draw_canonical_value
from cds.testing.fhir_values import chance, integers, pick
from cds.testing.space import RulePattern, RuleSpace, load_space

STEPS = (0.0, -0.01, 0.01, -1.0, 1.0)
WHOLE_STEPS = (0, -1, 1)
"""How far from a threshold a value is drawn: on it, just across it either way, well across it."""
_OTHER_KINDS = ("red_flag", "problem", "lab", "assessment", "medication", "pattern")


def _names(space: RuleSpace) -> dict[tuple[str, str], list[str]]:
    """What each named string field of each fact kind can hold under these rules."""
    return {
        ("symptom", "concept"): [c.name for c in space.concepts("symptom")],
        ("red_flag", "concept"): [c.name for c in space.concepts("red_flag")],
        ("problem", "concept"): [c.name for c in space.concepts("problem")],
        ("lab", "analyte"): [m.name for m in space.measured_of("lab")],
        ("lab", "unit"): sorted({m.unit for m in space.measured_of("lab")}),
        ("assessment", "instrument"): [m.name for m in space.measured_of("assessment")],
        ("medication", "med_class"): sorted({i.med_class for i in space.ingredients}),
        ("medication", "ingredient"): [i.name for i in space.ingredients],
        ("medication", "atc"): sorted({i.atc for i in space.ingredients}),
    }


def _any_value(draw: st.DrawFn, space: RuleSpace, kind: str, name: str, chosen: Mapping[str, Any]) -> Any:
    annotation = FACT_KINDS[kind].model_fields[name].annotation
    optional = [a for a in typing.get_args(annotation) if a is not type(None)]
    if type(None) in typing.get_args(annotation) and len(optional) == 1:
        if not draw(integers(0, 4)):
            return None
        annotation = optional[0]
    if typing.get_origin(annotation) is typing.Literal:
        return pick(draw, typing.get_args(annotation))
    if annotation is bool:
        return chance(draw)
    if annotation is int:
        return draw(integers(0, 9))
    if annotation is float:
        measured = chosen.get("analyte") or chosen.get("instrument")
        concept = next((m for m in space.measured if m.name == measured), None)
        return draw_canonical_value(draw, concept) if concept else draw(integers(0, 20_000)) / 100
    return pick(draw, _names(space).get((kind, name), ["unlisted"]))


def _near(draw: st.DrawFn, condition: Any, other: Any) -> Any:
    if isinstance(condition, Mapping):
        operand = pick(draw, list(condition.values()))
        if isinstance(other, int) and not isinstance(other, bool) and isinstance(operand, int):
            return operand + pick(draw, WHOLE_STEPS)
        if isinstance(other, float) and isinstance(operand, int | float) and not isinstance(operand, bool):
            return round(float(operand) + pick(draw, STEPS), 4)
        return operand if _mostly(draw) else other
    if isinstance(condition, list):
        return pick(draw, condition) if _mostly(draw) else other
    return condition if _mostly(draw) else other


def _mostly(draw: st.DrawFn) -> bool:
    """Four times in five: a fact near a pattern mostly keeps what the pattern asks for."""
    return draw(integers(0, 4)) > 0


def draw_fact(
    draw: st.DrawFn, space: RuleSpace, kind: str, index: int, near: RulePattern | None = None
) -> Fact:
    """A valid fact of `kind`; each field `near` tests is drawn near what it tests, the rest anywhere."""
    model = FACT_KINDS[kind]
    values: dict[str, Any] = {}
    for name in model.engine_fields():
        other = _any_value(draw, space, kind, name, values)
        values[name] = _near(draw, near.where[name], other) if near and name in near.where else other
    return model(id=f"{kind}:{index}", label=kind.replace("_", " "), **values)


def _other_fact(draw: st.DrawFn, space: RuleSpace, index: int) -> Fact:
    patterns = [p for p in space.patterns if p.fact not in ("symptom", "record")]
    if patterns and draw(integers(0, 4)) > 0:
        pattern = pick(draw, patterns)
        return draw_fact(draw, space, pattern.fact, index, near=pattern)
    return draw_fact(draw, space, pick(draw, _OTHER_KINDS), index)


@st.composite
def fact_sets(draw: st.DrawFn, space: RuleSpace | None = None) -> list[Fact]:
    """One evaluation's facts: up to two symptoms, up to four other facts (mostly near a rule pattern),
    and the record fact."""
    rules = space or load_space()
    facts = [draw_fact(draw, rules, "symptom", n) for n in range(draw(integers(0, 2)))]
    facts += [_other_fact(draw, rules, n) for n in range(draw(integers(0, 4)))]
    record_patterns = [p for p in rules.patterns if p.fact == "record"]
    record = draw_fact(
        draw, rules, "record", 0, near=pick(draw, record_patterns) if record_patterns else None
    )
    assert isinstance(record, WholeRecord)
    counts = {
        "symptom_count": sum(1 for f in facts if f.kind == "symptom"),
        "red_flag_count": sum(1 for f in facts if f.kind == "red_flag"),
    }
    return [*facts, record.model_copy(update={"id": "record", **counts})]
