"""A rule file's `when` compiled to engine rules: one per combination of its alternatives, and blockers."""

from __future__ import annotations

import itertools

from cds.engine import CompiledRule
from cds.rulebook.conditions import FieldDomain, compile_pattern
from cds.rulebook.files import FactPattern, RuleFile, Scalar
from cds.rulebook.model import Alternative


def compile_rule(
    spec: RuleFile, domains: dict[str, dict[str, FieldDomain]], values: dict[str, Scalar]
) -> tuple[list[CompiledRule], dict[str, Alternative]]:
    """Expands all/any into one engine rule per combination; each `unless` pattern into blocker rules."""
    when = spec.when
    required = [
        [(p, alt) for alt in compile_pattern(p, domains, values, f"when.all.{i}")]
        for i, p in enumerate(when.all)
    ]
    optional = [
        [(p, alt) for alt in compile_pattern(p, domains, values, f"when.any.{i}")]
        for i, p in enumerate(when.any)
    ]
    choices = required + ([[c for options in optional for c in options]] if optional else [])
    compiled: list[CompiledRule] = []
    alternatives: dict[str, Alternative] = {}
    for n, combo in enumerate(itertools.product(*choices)):
        key = f"{spec.id}#{n}"
        compiled.append(CompiledRule(key=key, patterns=tuple(alt for _, alt in combo)))
        sources = tuple(p for p, _ in combo)
        why = reasons(sources, values)
        roles = ["all" if index < len(when.all) else "any" for index in range(len(sources))]
        matched = tuple((r, role, p.label, p.advice) for r, role, p in zip(why, roles, sources, strict=True))
        alternatives[key] = Alternative(key, spec.id, "when", sources, why, matched)
    for role, mark, patterns in (("unless", "!", when.unless), ("context", "~", when.context)):
        for j, pattern in enumerate(patterns):
            for k, alt in enumerate(compile_pattern(pattern, domains, values, f"when.{role}.{j}")):
                key = f"{spec.id}{mark}{j}.{k}"
                compiled.append(CompiledRule(key=key, patterns=(alt,)))
                why = reasons((pattern,), values)
                matched = ((why[0], "context", pattern.label, pattern.advice),) if role == "context" else ()
                alternatives[key] = Alternative(key, spec.id, role, (pattern,), why, matched)
    return compiled, alternatives


def reasons(patterns: tuple[FactPattern, ...], values: dict[str, Scalar]) -> tuple[str, ...]:
    return tuple((p.because or p.fact.replace("_", " ")).format_map(values) for p in patterns)
