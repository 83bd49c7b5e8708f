"""From engine activations to findings: a rule holds when an alternative matched and no `unless` did.

The engine reports every matching combination; here they are grouped per rule, so a rule gives one
finding (one card) however many resources support it.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from cds.engine import Activation
from cds.findings.models import Decision, Finding, Match, Suppression
from cds.rulebook.model import Rulebook

_MatchKey = tuple[str, str, str, str | None, str | None]
"""A match's fields in `Match` order: two matches with the same key are the same match."""


def decide(rulebook: Rulebook, activations: Sequence[Activation]) -> Decision:
    when: dict[str, dict[_MatchKey, None]] = {}
    blockers: dict[str, list[tuple[str, str]]] = {}
    context: dict[str, dict[_MatchKey, None]] = {}
    alternatives = rulebook.alternatives
    for activation in activations:
        alternative = alternatives[activation.rule_key]
        role, rule_id = alternative.role, alternative.rule_id
        if role == "unless":
            blockers.setdefault(rule_id, []).append((alternative.reasons[0], activation.fact_ids[0]))
            continue
        matches = (context if role == "context" else when).setdefault(rule_id, {})
        for fact_id, (reason, as_role, label, advice) in zip(
            activation.fact_ids, alternative.matched, strict=True
        ):
            matches[(fact_id, reason, as_role, label, advice)] = None
    findings: list[Finding] = []
    suppressed: list[Suppression] = []
    fired: set[str] = set()
    for rule_id in sorted(when, key=rulebook.position):
        rule = rulebook.rule(rule_id)
        reasons = [reason for reason, _ in blockers.get(rule_id, [])]
        reasons += [f"rule {other} fired" for other in rule.spec.when.unless_fired if other in fired]
        if reasons:
            fact_ids = tuple(sorted({fact for _, fact in blockers.get(rule_id, [])}))
            suppressed.append(Suppression(rule_id, tuple(dict.fromkeys(reasons)), fact_ids))
            continue
        fired.add(rule_id)
        findings.append(
            Finding(
                rule=rule,
                matches=_matches(when[rule_id]),
                context=_matches(context.get(rule_id, {})),
            )
        )
    return Decision(findings=tuple(findings), suppressed=tuple(suppressed))


_MATCH_ORDER = itemgetter(2, 0, 1)
"""Role, fact id, reason: the order matches are listed in."""


def _matches(keys: dict[_MatchKey, None]) -> tuple[Match, ...]:
    """Each distinct match once, by role, fact and reason (ties in the order the engine gave them)."""
    if not keys:
        return ()
    return tuple([Match(*key) for key in sorted(keys, key=_MATCH_ORDER)])
