"""From engine activations to findings: a rule holds when an alternative matched and no `unless` did.

The engine reports every matching combination; here they are grouped per rule, so a rule gives one
finding (one card) however many resources support it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cds.engine import Activation
from cds.findings.models import Decision, Finding, Match, Suppression
from cds.rulebook.model import Rulebook


def decide(rulebook: Rulebook, activations: Sequence[Activation]) -> Decision:
    when: dict[str, list[Match]] = {}
    blockers: dict[str, list[tuple[str, str]]] = {}
    context: dict[str, list[Match]] = {}
    for activation in activations:
        alternative = rulebook.alternatives[activation.rule_key]
        if alternative.role == "context":
            source = alternative.sources[0]
            match = Match(
                activation.fact_ids[0], alternative.reasons[0], "context", source.label, source.advice
            )
            if match not in context.setdefault(alternative.rule_id, []):
                context[alternative.rule_id].append(match)
            continue
        if alternative.role == "unless":
            blockers.setdefault(alternative.rule_id, []).append(
                (alternative.reasons[0], activation.fact_ids[0])
            )
            continue
        required = len(rulebook.rule(alternative.rule_id).spec.when.all)
        matches = when.setdefault(alternative.rule_id, [])
        for index, (source, reason, fact_id) in enumerate(
            zip(alternative.sources, alternative.reasons, activation.fact_ids, strict=True)
        ):
            match = Match(
                fact_id=fact_id,
                reason=reason,
                role="all" if index < required else "any",
                label=source.label,
                advice=source.advice,
            )
            if match not in matches:
                matches.append(match)
    findings: list[Finding] = []
    suppressed: list[Suppression] = []
    fired: set[str] = set()
    for rule in rulebook.rules:
        if rule.id not in when:
            continue
        reasons = [reason for reason, _ in blockers.get(rule.id, [])]
        reasons += [f"rule {other} fired" for other in rule.spec.when.unless_fired if other in fired]
        if reasons:
            fact_ids = tuple(sorted({fact for _, fact in blockers.get(rule.id, [])}))
            suppressed.append(Suppression(rule.id, tuple(dict.fromkeys(reasons)), fact_ids))
            continue
        fired.add(rule.id)
        findings.append(
            Finding(
                rule=rule,
                matches=tuple(sorted(when[rule.id], key=_match_order)),
                context=tuple(sorted(context.get(rule.id, []), key=_match_order)),
            )
        )
    return Decision(findings=tuple(findings), suppressed=tuple(suppressed))


def _match_order(match: Match) -> tuple[str, str, str]:
    return (match.role, match.fact_id, match.reason)
