"""Findings to CDS Hooks cards: the rule file's words, the evidence behind them, and the way to act.

The detail always lists each fact the card rests on (resource, value, date) and the rule id and version,
so a clinician sees why it fired and an informaticist can trace it to the rule file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from pydantic import ValidationError

from cds.cards.models import (
    Action,
    Build,
    Card,
    Coding,
    Indicator,
    Link,
    OverrideReason,
    SelectionBehavior,
    Source,
    Suggestion,
    assembled,
    check_summary,
    check_text,
    check_uuid,
    sort_cards,
    validated,
)
from cds.cards.orders import service_request
from cds.facts.extract import FactSet
from cds.facts.models import Diagnosis, Evidence, Fact, RedFlag
from cds.fielderrors import dotted, field_errors
from cds.findings.models import Decision, Finding, Match
from cds.rulebook.files import Order
from cds.rulebook.model import Rule, Rulebook
from cds.rulebook.problems import Problem, RulebookError
from cds.rulebook.templates import BRIEF, COUNTS, LISTS, SINGLE, brief, join_words, placeholders

RULE_TOPIC_SYSTEM = "urn:spasm-cds:rule"
OVERRIDE_SYSTEM = "urn:spasm-cds:override-reason"
SOURCE_LABEL = "Muscle spasm decision support"
CONTRIBUTOR_KINDS = frozenset({"lab", "problem", "medication", "assessment"})
SET_ASIDE_SHOWN = 12

UuidFactory = Callable[[], str]


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
"""The digit `uuid.uuid4` writes for each random hex digit at the variant's place (top bits 10)."""


def new_uuid() -> str:
    """What `str(uuid.uuid4())` returns, as the hex of the random bytes with the version and variant
    digits set: 0.8 µs, against 1.8 for formatting them as an int and 2.8 for `uuid.uuid4`."""
    hex_digits = os.urandom(16).hex()
    return (
        f"{hex_digits[:8]}-{hex_digits[8:12]}-4{hex_digits[13:16]}-"
        f"{_VARIANT[hex_digits[16]]}{hex_digits[17:20]}-{hex_digits[20:]}"
    )


def _role(match: Match, fact: Fact) -> str | None:
    if match.role == "context" or (isinstance(fact, Diagnosis) and fact.group == "context"):
        return "context"
    if fact.kind in CONTRIBUTOR_KINDS:
        return "contributor"
    return fact.kind if fact.kind in SINGLE.values() else None


def _placeholder_values(finding: Finding, facts: dict[str, Fact], parts: _RuleParts) -> dict[str, str]:
    """The value of each placeholder of the rule's words: the rule's parameters and constants as the
    rulebook gives them, the others from the facts the finding matched."""
    values = dict(parts.fixed)
    if not parts.derived:
        return values
    labels: dict[str, list[str]] = {role: [] for role in SINGLE.values()}
    ordered = sorted((*finding.matches, *finding.context), key=lambda m: _urgency_first(facts[m.fact_id]))
    for match in ordered:
        fact = facts[match.fact_id]
        role = _role(match, fact)
        if role is not None:
            labels[role].append(match.label or fact.label)
    for name in parts.derived:
        if name in COUNTS:
            values[name] = str(len(set(labels[name.removesuffix("_count")])))
        elif name in BRIEF:
            values[name] = brief(labels[BRIEF[name]])
        elif name in LISTS:
            values[name] = join_words(labels[LISTS[name]])
        else:
            words = labels[SINGLE[name]]
            values[name] = words[0] if words else ""
    return values


def _fixed_values(rulebook: Rulebook, names: frozenset[str]) -> dict[str, str]:
    """The placeholders the rulebook alone gives: a parameter wins over a constant of the same name, and
    either over a placeholder of the rule's facts."""
    parameters, constants = rulebook.vocabulary.parameters, rulebook.vocabulary.constants
    return {
        name: parameters[name] if name in parameters else constants[name]
        for name in names
        if name in parameters or name in constants
    }


def _urgency_first(fact: Fact) -> tuple[int, str]:
    """isinstance, not getattr with a default: a missing attribute costs pydantic about 7 µs."""
    urgent = isinstance(fact, RedFlag) and fact.urgency == "urgent"
    return (0 if urgent else 1, fact.id)


def _why(match: Match, fact: Fact) -> str:
    line = f"- **{match.label or fact.label}**: {match.reason}"
    if fact.detail:
        line += f"; {fact.detail}"
    if fact.evidence:
        line += ". Evidence: " + ", ".join([_cited(e) for e in fact.evidence])
    advice = match.advice or fact.advice
    if advice and match.role in ("any", "context"):
        line += f". To address: {advice}"
    return line


def _cited(evidence: Evidence) -> str:
    if evidence.date:
        return f"`{evidence.reference}` ({evidence.date.isoformat()}) {evidence.text}"
    return f"`{evidence.reference}` {evidence.text}"


def _detail(
    finding: Finding, facts: dict[str, Fact], fact_set: FactSet, parts: _RuleParts, intro: str
) -> str:
    lines = [intro, "", "**Why this card**", ""]
    matched = [(m, facts[m.fact_id]) for m in finding.matches]
    lines += [_why(m, fact) for m, fact in matched if fact.kind != "record"]
    lines += [f"- {m.reason}" for m, fact in matched if fact.kind == "record"]
    if finding.context:
        lines += ["", "**On the chart (context)**", ""]
        lines += [_why(m, facts[m.fact_id]) for m in finding.context]
    if fact_set.notes:
        cited = {e.reference for m in (*finding.matches, *finding.context) for e in facts[m.fact_id].evidence}
        quality = [n for n in fact_set.notes if n.split(": ", 1)[0] in cited and "data quality" in n]
        if quality:
            lines += ["", "**Data quality**", ""]
            lines += [f"- {note}" for note in quality]
    if fact_set.set_aside:
        lines += ["", "**Set aside**", ""]
        for item in fact_set.set_aside[:SET_ASIDE_SHOWN]:
            lines.append(f"- `{item.reference}` {item.what}: {item.reason}")
        hidden = len(fact_set.set_aside) - SET_ASIDE_SHOWN
        if hidden > 0:
            lines.append(f"- and {hidden} more (see `cds evaluate --explain`)")
    lines += ["", parts.signature]
    return "\n".join(lines)


def _evidence_references(finding: Finding, facts: dict[str, Fact]) -> list[str]:
    return [
        e.reference for m in finding.matches for e in facts[m.fact_id].evidence if e.resource_id is not None
    ]


@dataclass(frozen=True)
class _SuggestionParts:
    label: str
    recommended: Literal[True] | None
    orders: tuple[tuple[str, Order], ...]
    """Each order with the description of the action that creates it."""


@dataclass(frozen=True)
class _RuleParts:
    """What a rule's cards share whatever the record: built and validated once per rules version."""

    indicator: Indicator
    source: Source
    suggestions: tuple[_SuggestionParts, ...]
    selection: SelectionBehavior | None
    override_reasons: tuple[OverrideReason, ...] | None
    links: tuple[Link, ...] | None
    fixed: dict[str, str]
    """The value of each placeholder of the card's words (its own and in context) that the rulebook
    gives (parameters, constants)."""
    derived: tuple[str, ...]
    """The other placeholders of the card's words, worked out from the finding's facts."""
    signature: str
    """The detail's last line: the rule id and version and the rules version."""


_SAMPLE_PATIENT = "sample"
_SAMPLE_REASONS = ("Condition/sample",)


class RuleCards:
    """What each rule's cards share whatever the record, built when the rules load: each rule's parts
    make one whole sample card through the models' validators first, so a rule whose cards could never
    be valid is refused with the rules (a reload keeps the old ones), not by the first call it fires on.
    A record then changes only the uuids and the words, which `_assemble` checks on every card."""

    def __init__(self, rulebook: Rulebook) -> None:
        parts: dict[str, _RuleParts] = {}
        problems: list[Problem] = []
        for rule in rulebook.rules:
            try:
                built = _build_parts(rulebook, rule)
            except ValidationError as error:
                problems += _problems(rule, error, ())
            else:
                problems += _sample_problems(rule, built)
                parts[rule.id] = built
        if problems:
            raise RulebookError(problems)
        self._parts = parts

    def parts(self, rule: Rule) -> _RuleParts:
        return self._parts[rule.id]


def _problems(rule: Rule, error: ValidationError, where: tuple[str | int, ...]) -> list[Problem]:
    return [
        Problem(rule.file, None, rule.id, dotted(("card", *where, *found.loc)), found.message)
        for found in field_errors(error)
    ]


def _sample_problems(rule: Rule, parts: _RuleParts) -> list[Problem]:
    """Each action alone first: a model's errors are placed within that model, so only this way does
    an order's problem name the suggestion and action it is in."""
    for i, suggestion in enumerate(parts.suggestions):
        for j, (description, order) in enumerate(suggestion.orders):
            try:
                _action(validated, description, order, _SAMPLE_PATIENT, _SAMPLE_REASONS)
            except ValidationError as error:
                return _problems(rule, error, ("suggestions", i, "actions", j))
    try:
        _assemble(parts, validated, new_uuid, "sample", "sample", _SAMPLE_PATIENT, _SAMPLE_REASONS)
    except ValidationError as error:
        return _problems(rule, error, ())
    return []


def _build_parts(rulebook: Rulebook, rule: Rule) -> _RuleParts:
    """Validates the parts but not the card they make (`RuleCards` has a whole one validated). The
    patient and evidence references a record puts in an order cannot make it invalid (`Patient/...`,
    `Condition/...` are never blank)."""
    spec = rule.spec.card
    first_link = spec.links[0] if spec.links else None
    names = frozenset(
        name
        for words in (spec, spec.in_context)
        if words is not None
        for template in (words.summary, words.detail)
        for name in placeholders(template)
    )
    fixed = _fixed_values(rulebook, names)
    return _RuleParts(
        indicator=cast(Indicator, rule.indicator),
        source=Source(
            label=SOURCE_LABEL,
            url=str(first_link.url) if first_link else None,
            topic=Coding(system=RULE_TOPIC_SYSTEM, code=rule.id, display=rule.spec.title),
        ),
        suggestions=tuple(
            _SuggestionParts(
                label=s.label,
                recommended=True if s.recommended else None,
                orders=tuple(
                    (f"Create a draft order: {rulebook.orders[name].description}", rulebook.orders[name])
                    for name in s.order_names
                ),
            )
            for s in spec.suggestions
        ),
        selection=spec.selection,
        override_reasons=tuple(
            OverrideReason(system=OVERRIDE_SYSTEM, code=name, display=rulebook.override_reasons[name].display)
            for name in spec.override_reasons
        )
        or None,
        links=tuple(Link(label=link.label, url=str(link.url), type="absolute") for link in spec.links)
        or None,
        fixed=fixed,
        derived=tuple(sorted(name for name in names - fixed.keys() if _derived(name))),
        signature=f"_Rule `{rule.id}` version {rule.version} (rules {rulebook.version})._",
    )


def _derived(name: str) -> bool:
    return name in COUNTS or name in BRIEF or name in LISTS or name in SINGLE


def _card(
    finding: Finding,
    facts: dict[str, Fact],
    fact_set: FactSet,
    cards: RuleCards,
    new_uuid: UuidFactory,
    build: Build = assembled,
) -> Card:
    spec = finding.rule.spec.card
    parts = cards.parts(finding.rule)
    words = spec.in_context if finding.context and spec.in_context else spec
    values = _placeholder_values(finding, facts, parts)
    return _assemble(
        parts,
        build,
        new_uuid,
        words.summary.format_map(values),
        _detail(finding, facts, fact_set, parts, words.detail.format_map(values)),
        fact_set.patient_id,
        _evidence_references(finding, facts) if parts.suggestions else (),
    )


def _assemble(
    parts: _RuleParts,
    build: Build,
    new_uuid: UuidFactory,
    summary: str,
    detail: str,
    patient_id: str,
    references: Sequence[str],
) -> Card:
    """The card of `parts` and what one record gives, its values checked as the models would check
    them whichever way `build` makes the models."""
    suggestions = tuple(
        build(
            Suggestion,
            {
                "label": s.label,
                "uuid": check_uuid(new_uuid()),
                "isRecommended": s.recommended,
                "actions": tuple(
                    _action(build, description, order, patient_id, references)
                    for description, order in s.orders
                ),
            },
        )
        for s in parts.suggestions
    )
    return build(
        Card,
        {
            "uuid": check_uuid(new_uuid()),
            "summary": check_summary(check_text(summary)),
            "indicator": parts.indicator,
            "source": parts.source,
            "detail": check_text(detail),
            "suggestions": suggestions or None,
            "selectionBehavior": parts.selection if suggestions else None,
            "overrideReasons": parts.override_reasons,
            "links": parts.links,
        },
    )


def _action(
    build: Build, description: str, order: Order, patient_id: str, references: Sequence[str]
) -> Action:
    return build(
        Action,
        {
            "type": "create",
            "description": description,
            "resource": service_request(order, patient_id, references),
            "resourceId": None,
        },
    )


def build_cards(
    decision: Decision, fact_set: FactSet, cards: RuleCards, new_uuid: UuidFactory = new_uuid
) -> list[Card]:
    """`cards`: the parts of the rules `decision` was made by."""
    if not decision.findings:
        return []
    facts = fact_set.by_id()
    return sort_cards(_card(f, facts, fact_set, cards, new_uuid) for f in decision.findings)
