"""The rule catalogue in words: each rule, the parameters and codes it depends on, and its sources."""

from __future__ import annotations

import re

from cds.rulebook.files import FactPattern
from cds.rulebook.model import Rule, Rulebook
from cds.terminology import Terminology
from cds.terminology.valuesets import CodeEntry

CONCEPT_FIELDS = {"symptom": "concept", "red_flag": "concept", "problem": "concept", "lab": "analyte"}


def parameters_of(rule: Rule) -> list[str]:
    """Parameters a rule names, as `$name` in conditions or `{name}` in its card."""
    text = rule.spec.model_dump_json()
    return sorted(
        set(re.findall(r"\$([a-z][a-z0-9_]*)", text)) | set(re.findall(r"\{([a-z][a-z0-9_]*)\}", text))
    )


def _concepts_of(pattern: FactPattern, rulebook: Rulebook) -> list[tuple[str, str]]:
    """(kind, concept) pairs a pattern can match: named ones, or every concept of the kind."""
    terminology = rulebook.terminology
    field = CONCEPT_FIELDS.get(pattern.fact)
    if field is None:
        return []
    every = terminology.concepts.get(pattern.fact) or terminology.measured.get(pattern.fact) or {}
    named = pattern.where.get(field)
    names = (
        [str(n) for n in named]
        if isinstance(named, list)
        else [named]
        if isinstance(named, str)
        else list(every)
    )
    group = pattern.where.get("group")
    if group is not None and pattern.fact == "problem":
        names = [n for n in names if terminology.concepts["problem"][n].group == group]
    urgency = pattern.where.get("urgency")
    if urgency is not None and pattern.fact == "red_flag":
        names = [n for n in names if terminology.concepts["red_flag"][n].urgency == urgency]
    return [(pattern.fact, str(n)) for n in names if n in every]


def _code_lines(rule: Rule, rulebook: Rulebook) -> list[str]:
    terminology = rulebook.terminology
    when = rule.spec.when
    seen: dict[tuple[str, str], None] = {}
    for pattern in [*when.all, *when.any, *when.unless]:
        for pair in _concepts_of(pattern, rulebook):
            seen[pair] = None
    lines = []
    for kind, name in seen:
        spec = terminology.concepts.get(kind, {}).get(name) or terminology.measured[kind][name]
        codes = ", ".join(_code_words(c, terminology) for c in spec.codes)
        for taken in getattr(spec, "valuesets", []):
            imported = [
                c.code for c in terminology.codes(kind, name) if (c.source or "").startswith("FHIR ValueSet")
            ]
            codes += f"; FHIR ValueSet {taken.file} [{taken.status.upper()}]: {', '.join(imported)}"
        words = getattr(spec, "text_patterns", [])
        if words:
            codes = (codes + "; " if codes else "") + "text: " + ", ".join(words) + " [UNCONFIRMED: no code]"
        lines.append(f"      {kind} {name} ({spec.label}): {codes}")
    if any(p.fact == "medication" for p in when.any):
        for cls_name, cls in terminology.medication_classes.items():
            atc = ", ".join(a.code for a in cls.atc)
            lines.append(f"      medication {cls_name}: ATC {atc}")
    return lines


def _code_words(entry: CodeEntry, terminology: Terminology) -> str:
    """`R47 with descendants (R47, R47.1, ...; excluded R47.0, R47.82)`: the expansion, in full."""
    mark = "" if entry.status == "confirmed" else f" [{entry.status.upper()}]"
    if not entry.descendants:
        return entry.code + mark
    family = terminology.family(entry)
    excluded = f"; excluded {', '.join(family.exclude)}" if family.exclude else ""
    members = ", ".join(m.code for m in family.members)
    return f"{entry.code} with descendants ({members}{excluded}){mark}"


def catalogue(rulebook: Rulebook) -> str:
    out = [f"Rules version {rulebook.version} ({rulebook.directory})", ""]
    for rule in rulebook.rules:
        spec = rule.spec
        out.append(f"{spec.id} v{spec.version}  [{rule.indicator}]  {spec.title}")
        out.append(f"    file: {rule.file}")
        out.append(f"    summary: {spec.card.summary}")
        out.append(f"    article: {spec.implements.article}")
        if spec.implements.guideline:
            out.append(f"    guideline: {spec.implements.guideline}")
        params = [p for p in parameters_of(rule) if p in rulebook.parameters]
        if params:
            out.append("    parameters:")
            for name in params:
                parameter = rulebook.parameters[name]
                unit = f" {parameter.unit}" if parameter.unit else ""
                out.append(f"      {name} = {parameter.value}{unit}: {parameter.description}")
        codes = _code_lines(rule, rulebook)
        if codes:
            out.append("    codes:")
            out += codes
        for link in spec.card.links:
            out.append(f"    cites: {link.label} <{link.url}>")
        out.append("")
    fact_params = [
        name for name in rulebook.parameters if not any(name in parameters_of(r) for r in rulebook.rules)
    ]
    out.append("Parameters used by the fact layer (windows and patterns):")
    for name in fact_params:
        parameter = rulebook.parameters[name]
        unit = f" {parameter.unit}" if parameter.unit else ""
        out.append(f"  {name} = {parameter.value}{unit}: {parameter.description}")
    return "\n".join(out)
