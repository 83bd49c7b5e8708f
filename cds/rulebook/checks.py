"""Checks of a rule file beyond its schema: the card against parameters, templates and orders, and the
`unless_fired` references and order. Each returns its problems, each with the field at fault."""

from __future__ import annotations

from cds.rulebook.collect import Collector
from cds.rulebook.files import OrdersFile, RuleFile, Scalar
from cds.rulebook.model import Rule
from cds.rulebook.problems import Problem
from cds.rulebook.templates import TemplateError, Vocabulary, check_template
from cds.rulebook.yamlsource import YamlDocument

INDICATORS = ("info", "warning", "critical")


def resolve_indicator(indicator: str, values: dict[str, Scalar]) -> Scalar:
    return values.get(indicator[1:], indicator) if indicator.startswith("$") else indicator


def check_card(
    spec: RuleFile, values: dict[str, Scalar], vocabulary: Vocabulary, orders: OrdersFile
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    card = spec.card
    if card.indicator.startswith("$") and card.indicator[1:] not in values:
        found.append(("card.indicator", f"unknown parameter {card.indicator} (define it in parameters.yaml)"))
    elif resolve_indicator(card.indicator, values) not in INDICATORS:
        found.append(("card.indicator", f"must resolve to one of {', '.join(INDICATORS)}"))
    templates = [("card.summary", card.summary, 139), ("card.detail", card.detail, None)]
    if card.in_context is not None:
        templates += [
            ("card.in_context.summary", card.in_context.summary, 139),
            ("card.in_context.detail", card.in_context.detail, None),
        ]
    for loc, template, limit in templates:
        try:
            check_template(template, vocabulary, limit=limit)
        except TemplateError as exc:
            found.append((loc, str(exc)))
    param_only = vocabulary.parameters_only()
    for section in ("all", "any", "unless", "context"):
        for index, pattern in enumerate(getattr(spec.when, section)):
            for loc_suffix, text in (("because", pattern.because), ("label", pattern.label)):
                if text is None:
                    continue
                try:
                    check_template(text, param_only, limit=None)
                except TemplateError as exc:
                    found.append((f"when.{section}.{index}.{loc_suffix}", str(exc)))
    for index, suggestion in enumerate(card.suggestions):
        for name in suggestion.order_names:
            if name not in orders.orders:
                found.append((f"card.suggestions.{index}", f"unknown order {name!r} (see orders.yaml)"))
    for index, reason in enumerate(card.override_reasons):
        if reason not in orders.override_reasons:
            found.append(
                (f"card.override_reasons.{index}", f"unknown override reason {reason!r} (see orders.yaml)")
            )
    return found


def ordered_by_unless_fired(
    out: Collector, docs: list[YamlDocument], rules: list[Rule], known: set[str]
) -> list[Rule] | None:
    """The rules with those each one's `unless_fired` names first; None on a cycle (a problem in `out`).
    `known` holds every rule id written, valid or not, so one broken rule does not cascade."""
    by_file = {d.display_name: d for d in docs}
    for rule in rules:
        for index, other in enumerate(rule.spec.when.unless_fired):
            if other not in known:
                out.add(
                    by_file[rule.file], ("when", "unless_fired", index), rule.id, f"unknown rule id {other!r}"
                )
    try:
        return _ordered(rules)
    except ValueError as exc:
        out.problems.append(Problem(rules[0].file, None, None, "when.unless_fired", str(exc)))
        return None


def _ordered(rules: list[Rule]) -> list[Rule]:
    """Rules a rule's `unless_fired` names must be decided before it; refuses cycles."""
    by_id = {r.id: r for r in rules}
    ordered: list[Rule] = []
    state: dict[str, str] = {}

    def visit(rule: Rule, path: tuple[str, ...]) -> None:
        if state.get(rule.id) == "done":
            return
        if state.get(rule.id) == "active":
            raise ValueError("unless_fired forms a cycle: " + " -> ".join((*path, rule.id)))
        state[rule.id] = "active"
        for other in rule.spec.when.unless_fired:
            if other in by_id:
                visit(by_id[other], (*path, rule.id))
        state[rule.id] = "done"
        ordered.append(rule)

    for rule in rules:
        visit(rule, ())
    return ordered
