"""The rules' terminology read from rules/: code systems, value sets and ICD-10-CM families, built into
the one `Terminology` the fact layer asks. Every problem is located in its file, line and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from cds.rulebook.collect import Collector
from cds.rulebook.problems import RulebookError
from cds.rulebook.yamlsource import YamlDocument
from cds.terminology import CodeSystems, SystemsFile, Terminology
from cds.terminology.families import (
    ExpansionsFile,
    Family,
    FamilyError,
    FamilyKey,
    expand,
    family_key,
    recorded,
)
from cds.terminology.fhir_valueset import FhirValueSet, members
from cds.terminology.icd10cm import Icd10CmTabular, tabular_version
from cds.terminology.presence import PresenceFile, PresenceVocabulary
from cds.terminology.systems import SYSTEMS_CONTEXT
from cds.terminology.valuesets import (
    BodySiteFile,
    CodeEntry,
    ConceptFile,
    MeasureFile,
    MedicationFile,
    SeverityFile,
)

TERMINOLOGY_VALUE_SETS: dict[str, type[BaseModel]] = {
    "symptom": ConceptFile,
    "red_flag": ConceptFile,
    "problem": ConceptFile,
    "lab": MeasureFile,
    "assessment": MeasureFile,
    "medication": MedicationFile,
    "severity": SeverityFile,
    "body_site": BodySiteFile,
}
SYSTEMS_FILE = Path("terminology") / "systems.yaml"
EXPANSIONS_FILE = Path("terminology") / "icd-10-cm-expansions.yaml"
PRESENCE_FILE = Path("terminology") / "presence.yaml"


@dataclass(frozen=True)
class LoadedTerminology:
    terminology: Terminology
    live: tuple[tuple[str, Family], ...]
    """Families expanded from the tabular because the expansions file lacks them: (file, family)."""


def load_code_systems(out: Collector, root: Path) -> CodeSystems:
    """The code systems, made the validation context of every file with codes; raises RulebookError at
    once when they do not load, since no other file with codes can then be checked."""
    systems_doc = out.read_required(root / SYSTEMS_FILE)
    systems_spec = out.validate(systems_doc, SystemsFile) if systems_doc else None
    if systems_spec is None:
        raise RulebookError(out.problems)
    systems = CodeSystems(systems_spec)
    out.context[SYSTEMS_CONTEXT] = systems
    return systems


def build_terminology(
    out: Collector, root: Path, value_sets: dict[str, tuple[YamlDocument, BaseModel]]
) -> LoadedTerminology | None:
    """None when a family does not expand (the problems are in `out`)."""
    systems = out.context[SYSTEMS_CONTEXT]
    assert isinstance(systems, CodeSystems), "load_code_systems first"
    before = len(out.problems)
    presence_doc = out.read_required(root / PRESENCE_FILE)
    presence = out.validate(presence_doc, PresenceFile) if presence_doc else None
    families, live = _families(out, root, systems, value_sets)
    imported = _imported(out, root, systems, value_sets)
    if len(out.problems) > before or presence is None:
        return None
    parsed = [model for _, model in value_sets.values()]
    return LoadedTerminology(
        Terminology(
            systems=systems,
            concept_files=[f for f in parsed if isinstance(f, ConceptFile)],
            measured_files=[f for f in parsed if isinstance(f, MeasureFile)],
            medications=next(f for f in parsed if isinstance(f, MedicationFile)),
            severity=next(f for f in parsed if isinstance(f, SeverityFile)),
            families=families,
            presence=PresenceVocabulary(presence, systems),
            imported=imported,
        ),
        tuple(live),
    )


def _imported(
    out: Collector, root: Path, systems: CodeSystems, value_sets: dict[str, tuple[YamlDocument, BaseModel]]
) -> dict[tuple[str, str], list[CodeEntry]]:
    """The members each concept takes from FHIR ValueSet files (`valuesets:`), each file checked."""
    imported: dict[tuple[str, str], list[CodeEntry]] = {}
    for doc, model in value_sets.values():
        if not isinstance(model, ConceptFile):
            continue
        for name, concept in model.concepts.items():
            for index, taken in enumerate(concept.valuesets):
                path = root / "valuesets" / taken.file
                if not path.is_file():
                    where = ("concepts", name, "valuesets", index, "file")
                    out.add(doc, where, None, f"no such file: {out.name(path)}")
                    continue
                vs_doc = out.read(path)
                spec = out.validate(vs_doc, FhirValueSet) if vs_doc else None
                if vs_doc is None or spec is None:
                    continue
                entries, problems = members(spec, taken, systems)
                for loc, message in problems:
                    out.add(vs_doc, loc, None, message)
                imported.setdefault((model.kind, name), []).extend(entries)
    return imported


def family_entries(
    value_sets: dict[str, tuple[YamlDocument, BaseModel]],
) -> list[tuple[YamlDocument, tuple[str | int, ...], CodeEntry]]:
    """Every code written `descendants: true`, with its document and location."""
    found: list[tuple[YamlDocument, tuple[str | int, ...], CodeEntry]] = []
    for doc, model in value_sets.values():
        if not isinstance(model, ConceptFile | MeasureFile):
            continue
        for name, concept in model.concepts.items():
            for index, entry in enumerate(concept.codes):
                if entry.descendants:
                    found.append((doc, ("concepts", name, "codes", index), entry))
    return found


def _families(
    out: Collector,
    root: Path,
    systems: CodeSystems,
    value_sets: dict[str, tuple[YamlDocument, BaseModel]],
) -> tuple[dict[FamilyKey, Family], list[tuple[str, Family]]]:
    entries = family_entries(value_sets)
    known: dict[FamilyKey, Family] = {}
    if entries and (root / EXPANSIONS_FILE).is_file():
        doc = out.read(root / EXPANSIONS_FILE)
        spec = out.validate(doc, ExpansionsFile) if doc else None
        if spec is not None and spec.tabular == tabular_version():
            known = recorded(spec)
    families: dict[FamilyKey, Family] = {}
    live: list[tuple[str, Family]] = []
    tabular = Icd10CmTabular()
    for doc, loc, entry in entries:
        if systems.hierarchy(entry.system) is None:
            out.add(
                doc,
                (*loc, "descendants"),
                None,
                f"{systems.label(entry.system)} has no hierarchy here: list its members one by one",
            )
            continue
        code = systems.normalise(entry.system, entry.code)
        exclude = [systems.normalise(entry.system, c) for c in entry.exclude]
        key = family_key(code, exclude)
        if key in known:
            families[key] = known[key]
            continue
        try:
            family = expand(code, exclude, tabular)
        except FamilyError as exc:
            out.add(
                doc, (*loc, *(int(p) if p.isdigit() else p for p in exc.field.split("."))), None, str(exc)
            )
            continue
        families[key] = family
        live.append((doc.display_name, family))
    return families, live
