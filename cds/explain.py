"""An evaluation told in words: facts, rules fired and held back, what was set aside, and why."""

from __future__ import annotations

from cds.evaluation import Evaluation


def explain(evaluation: Evaluation) -> str:
    facts = evaluation.facts
    lines = [
        f"Patient {facts.patient_id}, evaluated at {facts.now.isoformat()}",
        f"Rules version {evaluation.rulebook.version} from {evaluation.rulebook.directory}",
        "",
        "Facts:",
    ]
    for fact in facts.facts:
        payload = {k: v for k, v in fact.engine_payload().items() if k not in ("id", "kind")}
        fields = ", ".join(f"{k}={v}" for k, v in payload.items())
        lines.append(f"  [{fact.id}] {fact.label}: {fields}")
        if fact.detail:
            lines.append(f"      {fact.detail}")
        for evidence in fact.evidence:
            date = f" ({evidence.date.isoformat()})" if evidence.date else ""
            lines.append(f"      <- {evidence.reference}{date} {evidence.text}")
    lines += ["", "Rules fired:"]
    for finding in evaluation.decision.findings:
        lines.append(f"  {finding.rule.id} v{finding.rule.version} -> {finding.rule.indicator}")
        for match in finding.matches:
            lines.append(f"      on [{match.fact_id}]: {match.reason}")
    if not evaluation.decision.findings:
        lines.append("  (none)")
    lines += ["", "Rules held back:"]
    for suppression in evaluation.decision.suppressed:
        lines.append(f"  {suppression.rule_id}: {'; '.join(suppression.reasons)}")
    if not evaluation.decision.suppressed:
        lines.append("  (none)")
    fired = {f.rule.id for f in evaluation.decision.findings} | {
        s.rule_id for s in evaluation.decision.suppressed
    }
    quiet = [r.id for r in evaluation.rulebook.rules if r.id not in fired]
    lines += ["", "Rules whose conditions were not met: " + (", ".join(quiet) or "(none)"), "", "Set aside:"]
    for item in facts.set_aside:
        lines.append(f"  {item.reference} {item.what}: {item.reason}")
    if not facts.set_aside:
        lines.append("  (nothing)")
    notes = [*evaluation.source_notes, *facts.notes]
    if notes:
        lines += ["", "Notes on the input:"] + [f"  {note}" for note in notes]
    return "\n".join(lines)
