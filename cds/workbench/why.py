"""Why one patient's cards differ between the baseline and the current rules, in one line.

Read from the two evaluations and the rules diff, never written per rule: for each rule that fires under
one rule set only, the facts it rested on are held against the conditions whose parameters changed
("magnesium 1.6 mg/dL on 2026-11-20, now above the threshold 1.5 (was 1.7)"); a fact only one rule set
recognises is named with the codes or fact parameters that changed; a rule held back names what held it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from cds.evaluation import Evaluation
from cds.facts.models import Fact
from cds.findings import Finding
from cds.rulebook.diff import ParameterChange, RulesDiff
from cds.rulebook.files import FactPattern

_CONCEPT_FIELDS = ("concept", "analyte", "instrument", "med_class")
_MEASURE_FIELDS = ("value", "score")


def why_changed(before: Evaluation, after: Evaluation, diff: RulesDiff) -> str:
    """`before` under the baseline rules, `after` under the current ones; empty when no card differs."""
    fired_before = {f.rule.id: f for f in before.decision.findings}
    fired_after = {f.rule.id: f for f in after.decision.findings}
    changed = {p.name: p for p in diff.parameters}
    evidence: list[str] = []
    consequences: list[str] = []
    for rule_id in dict.fromkeys([*fired_before, *fired_after]):
        was, now = fired_before.get(rule_id), fired_after.get(rule_id)
        if was is not None and now is not None:
            if was.rule.indicator != now.rule.indicator:
                evidence.append(f"{rule_id} card now {now.rule.indicator} (was {was.rule.indicator})")
            continue
        finding, gone = (was, True) if was is not None else (now, False)
        assert finding is not None
        held = _held_back(after if gone else before, rule_id)
        if held is not None:
            words = f"now held back: {held}" if gone else f"no longer held back (it was: {held})"
            consequences.append(f"{rule_id} {words}")
            continue
        clauses = list(_deciding(finding, before, after, diff, changed, gone))
        verb = "no longer fires" if gone else "now fires"
        evidence.append(f"{rule_id} {verb}: {'; '.join(clauses)}" if clauses else f"{rule_id} {verb}")
    return "; ".join([*evidence, *consequences])


def _held_back(evaluation: Evaluation, rule_id: str) -> str | None:
    for suppression in evaluation.decision.suppressed:
        if suppression.rule_id == rule_id:
            return ", ".join(suppression.reasons)
    return None


def _deciding(
    finding: Finding,
    before: Evaluation,
    after: Evaluation,
    diff: RulesDiff,
    changed: Mapping[str, ParameterChange],
    gone: bool,
) -> Iterator[str]:
    """The facts the finding rested on that explain it: a changed threshold, or recognition changed."""
    own, other = (before, after) if gone else (after, before)
    facts, other_facts = own.facts.by_id(), other.facts.by_id()
    side = "the current" if gone else "the baseline"
    patterns = [*finding.rule.spec.when.all, *finding.rule.spec.when.any]
    if gone and finding.rule.id not in {r.id for r in after.rulebook.rules}:
        yield "the rule is not in the current rules"
        return
    if not gone and finding.rule.id not in {r.id for r in before.rulebook.rules}:
        yield "a rule the baseline rules do not have"
    for match in finding.matches:
        fact = facts.get(match.fact_id)
        if fact is None:
            continue
        threshold = _threshold(fact, patterns, changed)
        unrecognised = (
            None
            if match.fact_id in other_facts
            else f"not recognised by {side} rules{_recognition(fact, diff)}"
        )
        if threshold is not None:
            yield f"{threshold}, {unrecognised}" if unrecognised else threshold
        elif unrecognised is not None:
            yield f"{_evidence(fact)}, {unrecognised}"


def _threshold(fact: Fact, patterns: list[FactPattern], changed: Mapping[str, ParameterChange]) -> str | None:
    """The fact against a condition of the rule whose threshold parameter changed, if one applies to it."""
    payload = fact.engine_payload()
    for pattern in patterns:
        if pattern.fact != fact.kind:
            continue
        compared = [
            (field, str(value)[1:])
            for field, condition in pattern.where.items()
            if isinstance(condition, dict)
            for value in condition.values()
            if isinstance(value, str) and value.startswith("$") and value[1:] in changed
        ]
        plain = {field: c for field, c in pattern.where.items() if not isinstance(c, dict)}
        if not compared or not all(_holds(payload.get(f), c) for f, c in plain.items()):
            continue
        field, name = compared[0]
        value, change = payload.get(field), changed[name]
        if not isinstance(value, int | float) or not isinstance(change.new, int | float):
            continue
        unit = payload.get("unit") or change.new_unit or ""
        relation = "above" if value > change.new else "at" if value == change.new else "below"
        was = f" (was {change.old:g})" if isinstance(change.old, int | float) else " (a new parameter)"
        return f"{_evidence(fact, value, unit)}, now {relation} the threshold {change.new:g}{was}"
    return None


def _holds(value: object, condition: object) -> bool:
    return value in condition if isinstance(condition, list) else value == condition


def _evidence(fact: Fact, value: float | None = None, unit: str = "") -> str:
    """`magnesium 1.6 mg/dL on 2026-11-20`: the fact's label, its value, the date of its latest evidence."""
    payload = fact.engine_payload()
    if value is None:
        measured = [payload[f] for f in _MEASURE_FIELDS if isinstance(payload.get(f), int | float)]
        value, unit = (measured[0], payload.get("unit") or "") if measured else (None, "")
    words = fact.label if value is None else f"{fact.label} {value:g}{' ' + unit if unit else ''}"
    dates = [e.date for e in fact.evidence if e.date is not None]
    return f"{words} on {max(dates).isoformat()}" if dates else words


def _recognition(fact: Fact, diff: RulesDiff) -> str:
    """The codes of the fact's concept, or the fact-layer parameters, that the diff shows changed."""
    concept = next(
        (getattr(fact, f) for f in _CONCEPT_FIELDS if isinstance(getattr(fact, f, None), str)), None
    )
    codes = [c for c in diff.codes if concept is not None and c.concept == f"{fact.kind} {concept}"]
    if codes:
        return f" (codes {', '.join(f'{c.change} {c.code}' for c in sorted(codes, key=lambda c: c.code))})"
    layer = [p for p in diff.parameters if not p.used_by]
    if layer:
        return f" (fact parameters changed: {', '.join(f'{p.name} {p.old} -> {p.new}' for p in layer)})"
    return ""
