"""Reading rules/valuesets/: one file per kind, each validated with the model its kind names."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from cds.rulebook.collect import Collector
from cds.rulebook.problems import Problem
from cds.rulebook.yamlsource import YamlDocument


def load_value_sets(
    out: Collector, folder: Path, models: Mapping[str, type[BaseModel]]
) -> dict[str, tuple[YamlDocument, BaseModel]] | None:
    """Each kind once, validated by its model; None (problems in `out`) when one is missing or wrong."""
    found: dict[str, tuple[YamlDocument, BaseModel]] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = out.read(path)
        if doc is None:
            continue
        kind = doc.data.get("kind")
        if kind not in models:
            out.add(doc, ("kind",), None, f"expected one of: {', '.join(models)}; got {kind!r}")
            continue
        if kind in found:
            out.add(doc, ("kind",), None, f"a second value-set file of kind {kind!r}")
            continue
        parsed = out.validate(doc, models[kind])
        if parsed is not None:
            found[kind] = (doc, parsed)
    missing = [k for k in models if k not in found]
    if missing and not out.problems:
        out.problems.append(
            Problem(out.name(folder), None, None, "", f"no value-set file of kind: {', '.join(missing)}")
        )
    return None if missing else found
