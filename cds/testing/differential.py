"""The differential check: the engine's cards against the reference evaluator, on the same facts."""

from __future__ import annotations

from collections.abc import Sequence

from cds.cards import to_dict
from cds.evaluation import Evaluation, Evaluator
from cds.facts.models import Fact
from cds.findings import decide
from cds.testing.compare import rule_ids, top_indicator
from cds.testing.reference import ReferenceEvaluator


def disagreement(evaluation: Evaluation, reference: ReferenceEvaluator) -> str | None:
    """How the cards of `evaluation` differ from what the reference evaluator derives from its facts;
    None when they agree on the rules that fired and the top indicator."""
    response = to_dict(evaluation.response)
    expected = reference.evaluate(fact.engine_payload() for fact in evaluation.facts.facts)
    fired = tuple(sorted(rule_ids(response)))
    problems = []
    if fired != expected.fired:
        problems.append(f"engine fired {list(fired)}, reference fired {list(expected.fired)}")
    if top_indicator(response) != expected.top_indicator:
        problems.append(f"top indicator {top_indicator(response)} != reference {expected.top_indicator}")
    if not problems:
        return None
    facts = "\n".join(f"  {fact.engine_payload()}" for fact in evaluation.facts.facts)
    return "; ".join(problems) + f"\nfacts:\n{facts}"


def fact_disagreement(
    evaluator: Evaluator, reference: ReferenceEvaluator, facts: Sequence[Fact]
) -> str | None:
    """The same comparison on facts drawn directly (see `cds.testing.facts`): the engine and `decide`
    against the reference, on the rules that fire and their indicators."""
    payloads = [fact.engine_payload() for fact in facts]
    decision = decide(evaluator.rulebook, evaluator.engine.evaluate(payloads))
    fired = {finding.rule.id: finding.rule.indicator for finding in decision.findings}
    expected = reference.evaluate(payloads)
    if fired == expected.indicators:
        return None
    listing = "\n".join(f"  {payload}" for payload in payloads)
    return f"engine fired {fired}, reference fired {expected.indicators}\nfacts:\n{listing}"
