"""Drawing codes from a hospital's own FHIR ValueSets, not only from this project's rules.

A ValueSet's expansion (`expansion.contains`, nested entries included; or, unexpanded, the concepts
listed in `compose.include`) becomes the codes of a concept in a `RuleSpace`, so every strategy that
takes `space=` (records, calls from discovery, draft orders) draws them:

    space = with_value_sets(load_space(), "problem", ["diabetes.json"], only=True)
    calls = from_discovery(url, space=space)

Codes from the SNOMED IPS free set used in this repository's tests: 73211009, 46635009, 44054006,
739681000 (`../shared/reference/snomed-ips-free-set-problems.tsv`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from cds.testing.space import FINDING_KINDS, Code, FindingConcept, FindingKind, MeasuredKind, RuleSpace

ValueSetSource = Mapping[str, Any] | Path | str


def _read(source: ValueSetSource) -> Mapping[str, Any]:
    value_set: Any = source if isinstance(source, Mapping) else orjson.loads(Path(source).read_bytes())
    if not isinstance(value_set, Mapping) or value_set.get("resourceType") != "ValueSet":
        raise ValueError(f"{source if not isinstance(source, Mapping) else 'value set'}: not a FHIR ValueSet")
    return value_set


def _contained(entries: Iterable[Mapping[str, Any]]) -> list[Code]:
    codes = []
    for entry in entries:
        if entry.get("code") and entry.get("system") and not entry.get("abstract"):
            display = str(entry.get("display") or entry["code"])
            codes.append(Code(system=str(entry["system"]), code=str(entry["code"]), display=display))
        codes += _contained(entry.get("contains") or [])
    return codes


def value_set_codes(source: ValueSetSource) -> tuple[Code, ...]:
    """The codes a ValueSet's expansion holds (or, without one, the concepts its compose lists)."""
    value_set = _read(source)
    expansion = value_set.get("expansion") or {}
    if expansion.get("contains"):
        codes = _contained(expansion["contains"])
    else:
        codes = [
            Code(
                system=str(include["system"]), code=str(c["code"]), display=str(c.get("display") or c["code"])
            )
            for include in (value_set.get("compose") or {}).get("include") or []
            for c in include.get("concept") or []
            if include.get("system")
        ]
    if not codes:
        raise ValueError(
            f"ValueSet {value_set.get('url') or value_set.get('id')}: no codes to draw (expand it first)"
        )
    return tuple(dict.fromkeys(codes))


def _name(value_set: Mapping[str, Any]) -> str:
    return str(value_set.get("name") or value_set.get("id") or value_set.get("url") or "value set")


def with_value_sets(
    space: RuleSpace,
    kind: FindingKind | MeasuredKind,
    value_sets: Iterable[ValueSetSource],
    *,
    concept: str | None = None,
    only: bool = False,
) -> RuleSpace:
    """The space with each ValueSet as a concept of `kind` (a symptom, red flag or problem), or, for a
    lab or assessment, as the codes of the measured `concept` (its units and thresholds kept). `only`
    drops the concepts of `kind` the rules had (for a measured concept: its own codes)."""
    read = [_read(source) for source in value_sets]
    if kind in FINDING_KINDS:
        added = tuple(FindingConcept(kind=kind, name=_name(vs), codes=value_set_codes(vs)) for vs in read)
        kept = tuple(c for c in space.findings if not (only and c.kind == kind))
        return space.narrowed(kept + added, space.measured, space.ingredients)
    target = next((m for m in space.measured if m.kind == kind and m.name == concept), None)
    if target is None:
        names = ", ".join(m.name for m in space.measured if m.kind == kind)
        raise ValueError(f"no {kind} concept {concept!r} in {space.directory} (expected one of: {names})")
    codes = tuple(code for vs in read for code in value_set_codes(vs))
    replaced = target.model_copy(update={"codes": codes if only else target.codes + codes})
    measured = tuple(replaced if m is target else m for m in space.measured)
    return space.narrowed(space.findings, measured, space.ingredients)
