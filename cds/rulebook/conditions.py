"""Rule conditions (readable `where` clauses) compiled to engine patterns, checked against the facts.

Each `where` is expanded to disjunctive normal form here, so that every compiled engine rule is one
plain conjunction and an activation tells exactly which alternative matched (that is the card's "why").
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Mapping
from dataclasses import dataclass

from cds.engine import Pattern, Test
from cds.facts.models import FACT_KINDS
from cds.rulebook.files import FactPattern, Scalar, WhereValue
from cds.terminology import Terminology

OPERATORS = {"below": "lt", "at_most": "le", "above": "gt", "at_least": "ge", "not": "ne"}
NUMERIC_OPERATORS = {"lt", "le", "gt", "ge"}


class ConditionError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class FieldDomain:
    """What values a fact field can take, so a misspelt concept is caught at load time."""

    numeric: bool
    allowed: frozenset[Scalar] | None
    python_type: type


def _domain_from_annotation(annotation: object) -> FieldDomain:
    present = [a for a in typing.get_args(annotation) if a is not type(None)]
    if type(None) in typing.get_args(annotation) and len(present) == 1:
        annotation = present[0]  # an optional field: tested when present, matching nothing when not
    if typing.get_origin(annotation) is typing.Literal:
        return FieldDomain(False, frozenset(typing.get_args(annotation)), str)
    if annotation is bool:
        return FieldDomain(False, frozenset({True, False}), bool)
    if annotation is int:
        return FieldDomain(True, None, int)
    if annotation is float:
        return FieldDomain(True, None, float)
    return FieldDomain(False, None, str)


def field_domains(terminology: Terminology) -> dict[str, dict[str, FieldDomain]]:
    named: dict[tuple[str, str], Mapping[str, object]] = {
        ("symptom", "concept"): terminology.concepts.get("symptom", {}),
        ("red_flag", "concept"): terminology.concepts.get("red_flag", {}),
        ("problem", "concept"): terminology.concepts.get("problem", {}),
        ("lab", "analyte"): terminology.measured.get("lab", {}),
        ("assessment", "instrument"): terminology.measured.get("assessment", {}),
        ("medication", "med_class"): terminology.medication_classes,
    }
    domains: dict[str, dict[str, FieldDomain]] = {}
    for kind, model in FACT_KINDS.items():
        fields: dict[str, FieldDomain] = {}
        for name in model.engine_fields():
            domain = _domain_from_annotation(model.model_fields[name].annotation)
            if (kind, name) in named:
                domain = FieldDomain(False, frozenset(named[(kind, name)]), str)
            fields[name] = domain
        domains[kind] = fields
    return domains


def _resolve(value: Scalar, parameters: Mapping[str, Scalar], field: str) -> Scalar:
    if isinstance(value, str) and value.startswith("$"):
        name = value[1:]
        if name not in parameters:
            raise ConditionError(field, f"unknown parameter {value} (define it in parameters.yaml)")
        return parameters[name]
    return value


def _check_value(value: Scalar, domain: FieldDomain, op: str, field: str) -> Scalar:
    if op in NUMERIC_OPERATORS or domain.numeric:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConditionError(field, f"expected a number, got {value!r}")
        if not domain.numeric:
            raise ConditionError(field, "is not a numeric field; use a plain value or a list of values")
        if domain.python_type is int:
            if value != int(value):
                raise ConditionError(field, f"expected a whole number, got {value!r}")
            return int(value)
        return float(value)
    if domain.allowed is not None and value not in domain.allowed:
        choices = ", ".join(sorted(str(v) for v in domain.allowed))
        raise ConditionError(field, f"{value!r} is not a known value (expected one of: {choices})")
    if not isinstance(value, domain.python_type):
        raise ConditionError(field, f"expected a {domain.python_type.__name__}, got {value!r}")
    return value


def _alternatives_for(
    name: str, raw: WhereValue, domain: FieldDomain, parameters: Mapping[str, Scalar], loc: str
) -> list[tuple[Test, ...]]:
    if isinstance(raw, dict):
        tests = []
        for word, operand in raw.items():
            op = OPERATORS[word]
            value = _check_value(_resolve(operand, parameters, loc), domain, op, loc)
            tests.append(Test(field=name, op=op, value=value))
        return [tuple(tests)]
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise ConditionError(loc, "an empty list can never match")
    return [
        (Test(field=name, op="eq", value=_check_value(_resolve(v, parameters, loc), domain, "eq", loc)),)
        for v in values
    ]


def compile_pattern(
    pattern: FactPattern,
    domains: Mapping[str, Mapping[str, FieldDomain]],
    parameters: Mapping[str, Scalar],
    loc: str,
) -> list[Pattern]:
    """One rule-file pattern becomes one engine pattern per alternative of its `where` clause."""
    if pattern.fact not in domains:
        raise ConditionError(
            f"{loc}.fact",
            f"unknown fact kind {pattern.fact!r} (expected one of: {', '.join(sorted(domains))})",
        )
    kind_domains = domains[pattern.fact]
    per_field: list[list[tuple[Test, ...]]] = []
    for name, raw in pattern.where.items():
        field_loc = f"{loc}.where.{name}"
        if name not in kind_domains:
            raise ConditionError(
                field_loc,
                f"fact {pattern.fact} has no field {name!r} (fields: {', '.join(sorted(kind_domains))})",
            )
        per_field.append(_alternatives_for(name, raw, kind_domains[name], parameters, field_loc))
    combos = itertools.product(*per_field) if per_field else iter([()])
    return [Pattern(kind=pattern.fact, all=tuple(t for group in combo for t in group)) for combo in combos]
