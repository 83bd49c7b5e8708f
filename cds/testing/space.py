"""What the rules recognise, read straight from the rule files so generated data follows every rule edit.

The strategies draw codes, units, thresholds and windows from here. The YAML is read with plain `yaml`
rather than through `cds.rulebook`, so a loader bug that drops or mangles a code shows up as data the
product fails to recognise instead of being copied into the test data.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from cds.rulebook import DEFAULT_RULES_DIR
from cds.terminology import CodeSystems, SystemsFile

FindingKind = Literal["symptom", "red_flag", "problem"]
MeasuredKind = Literal["lab", "assessment"]
FINDING_KINDS: tuple[FindingKind, ...] = ("symptom", "red_flag", "problem")
MEASURED_KINDS: tuple[MeasuredKind, ...] = ("lab", "assessment")
_MEASURED_FIELDS = {"lab": ("analyte", "value"), "assessment": ("instrument", "score")}
_COMPARISONS = ("below", "at_most", "above", "at_least")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Code(_Frozen):
    system: str
    code: str
    display: str
    prefix: bool = False
    spellings: tuple[str, ...] = ()
    """Every way data may write the system (the URI first, then aliases such as the OID)."""
    dotted: bool = False
    """ICD-style: data may write the code without its dot."""
    family: bool = False
    """Written with descendants: codes below it may be recognised too (so none is drawn as noise)."""


class FindingConcept(_Frozen):
    kind: FindingKind
    name: str
    codes: tuple[Code, ...]
    text_patterns: tuple[str, ...] = ()
    group: str | None = None


class UnitSpelling(_Frozen):
    """One way a unit is written (`mEq/L`), the unit it means (`meq/L`), and its factor to the canonical
    unit."""

    spelling: str
    unit: str
    factor: float

    @property
    def is_ucum(self) -> bool:
        return self.spelling == self.unit


class MeasuredConcept(_Frozen):
    kind: MeasuredKind
    name: str
    unit: str
    codes: tuple[Code, ...]
    spellings: tuple[UnitSpelling, ...]
    thresholds: tuple[float, ...]
    """Every number a rule compares this concept's value with, in the canonical unit."""

    def spelling(self, written: str) -> UnitSpelling | None:
        """The spelling `written` stands for; UCUM is case-sensitive, but real data is not (nor is the
        product)."""
        exact = next((s for s in self.spellings if s.spelling == written), None)
        return exact or next((s for s in self.spellings if s.spelling.lower() == written.lower()), None)


class MedicationIngredient(_Frozen):
    name: str
    med_class: str
    atc: str
    rxnorm: tuple[Code, ...]
    names: tuple[str, ...]


class SeverityLevel(_Frozen):
    name: str
    words: tuple[str, ...]
    codes: tuple[Code, ...]


class RulePattern(_Frozen):
    """A pattern of a rule's `when`, with `$parameters` replaced by their values."""

    fact: str
    where: Mapping[str, Any]


class RuleSpace(_Frozen):
    """The vocabulary of one rules directory, as data to generate from."""

    directory: Path
    systems: SystemsFile
    findings: tuple[FindingConcept, ...]
    measured: tuple[MeasuredConcept, ...]
    ingredients: tuple[MedicationIngredient, ...]
    severities: tuple[SeverityLevel, ...]
    body_site_words: Mapping[str, tuple[str, ...]]
    windows: Mapping[str, int]
    """Every whole-number parameter ending in `_days`, by name: the time windows records are cut by."""
    patterns: tuple[RulePattern, ...]
    """Every pattern of every rule, so facts can be drawn near what the rules test."""
    context_codes: tuple[Code, ...] = ()
    """Codes the rules read that no fact is drawn from (conditions that explain a red flag), so they
    are never drawn as irrelevant data either."""

    @functools.cached_property
    def _concepts(self) -> dict[tuple[str, str | None], tuple[FindingConcept, ...]]:
        index: dict[tuple[str, str | None], list[FindingConcept]] = {}
        for concept in self.findings:
            index.setdefault((concept.kind, None), []).append(concept)
            index.setdefault((concept.kind, concept.group), []).append(concept)
        return {key: tuple(found) for key, found in index.items()}

    def concepts(self, kind: FindingKind, group: str | None = None) -> tuple[FindingConcept, ...]:
        found = self._concepts.get((kind, group))
        if not found:
            raise ValueError(
                f"{self.directory}: no {kind} concept" + (f" of group {group!r}" if group else "")
            )
        return found

    @functools.cached_property
    def _measured(self) -> dict[str, tuple[MeasuredConcept, ...]]:
        return {kind: tuple(m for m in self.measured if m.kind == kind) for kind in MEASURED_KINDS}

    def measured_of(self, kind: MeasuredKind) -> tuple[MeasuredConcept, ...]:
        return self._measured[kind]

    @functools.cached_property
    def body_words(self) -> tuple[str, ...]:
        """Every word the rules place a body site in a region by."""
        return tuple(sorted({word for words in self.body_site_words.values() for word in words}))

    def narrowed(
        self,
        findings: tuple[FindingConcept, ...],
        measured: tuple[MeasuredConcept, ...],
        ingredients: tuple[MedicationIngredient, ...],
    ) -> RuleSpace:
        """The same space with fewer concepts, so a chart repeats them (histories, refills, re-tests)."""
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return RuleSpace(**{**fields, "findings": findings, "measured": measured, "ingredients": ingredients})

    def __repr__(self) -> str:
        return f"RuleSpace({str(self.directory)!r})"

    def measured_concept(self, system: str, code: str) -> MeasuredConcept | None:
        coded = self.code_systems.canonical(system, code)
        if coded is None:
            return None
        return next(
            (
                m
                for m in self.measured
                if any((c.system, c.code) == (coded.system, coded.code) for c in m.codes)
            ),
            None,
        )

    def window(self, name: str) -> int:
        try:
            return self.windows[name]
        except KeyError:
            raise KeyError(
                f"{self.directory}/parameters.yaml has no whole-number parameter {name!r}"
            ) from None

    @functools.cached_property
    def _codes(self) -> frozenset[tuple[str, str]]:
        every = [c for f in self.findings for c in f.codes] + [c for m in self.measured for c in m.codes]
        every += [c for i in self.ingredients for c in i.rxnorm] + list(self.context_codes)
        return frozenset((c.system, self.code_systems.normalise(c.system, c.code)) for c in every)

    @functools.cached_property
    def _prefixes(self) -> tuple[tuple[str, str], ...]:
        every = [c for f in self.findings for c in f.codes if c.prefix or c.family]
        every += [c for c in self.context_codes if c.prefix or c.family]
        return tuple((c.system, self.code_systems.normalise(c.system, c.code)) for c in every)

    @functools.cached_property
    def _words(self) -> tuple[str, ...]:
        words = [p for f in self.findings for p in f.text_patterns]
        words += [n for i in self.ingredients for n in (i.name, *i.names)]
        return tuple(w.lower() for w in words)

    @functools.cached_property
    def code_systems(self) -> CodeSystems:
        return CodeSystems(self.systems)

    def recognises(self, system: str, code: str) -> bool:
        """Whether a coding names something the rules look at (so it cannot serve as irrelevant data)."""
        coded = self.code_systems.canonical(system, code)
        if coded is None:
            return False
        return (coded.system, coded.code) in self._codes or any(
            s == coded.system and coded.code.startswith(p) for s, p in self._prefixes
        )

    def mentions(self, text: str) -> bool:
        """Whether free text holds a word the rules recognise a concept or a medication by."""
        lowered = text.lower()
        return any(word in lowered for word in self._words)


def _codes(
    entries: Iterable[Mapping[str, Any]], systems: SystemsFile, system: str | None = None
) -> tuple[Code, ...]:
    found = []
    for entry in entries:
        spec = systems.systems[system or entry["system"]]
        found.append(
            Code(
                system=spec.uri,
                code=str(entry["code"]),
                display=str(entry["display"]),
                prefix=entry.get("match") == "prefix",
                spellings=(spec.uri, *spec.aliases),
                dotted=spec.codes == "icd",
                family=bool(entry.get("descendants")),
            )
        )
    return tuple(found)


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top of the file")
    return data


def _resolved(value: Any, parameters: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return parameters.get(value[1:])
    if isinstance(value, list):
        return [_resolved(item, parameters) for item in value]
    if isinstance(value, dict):
        return {word: _resolved(operand, parameters) for word, operand in value.items()}
    return value


def _patterns(definitions: list[dict[str, Any]], parameters: Mapping[str, Any]) -> tuple[RulePattern, ...]:
    found = []
    for rule in definitions:
        when = rule.get("when") or {}
        for section in ("all", "any", "unless"):
            for pattern in when.get(section) or []:
                where = {
                    name: _resolved(value, parameters) for name, value in (pattern.get("where") or {}).items()
                }
                found.append(RulePattern(fact=pattern["fact"], where=where))
    return tuple(found)


def _thresholds(patterns: Iterable[RulePattern]) -> dict[tuple[str, str], list[float]]:
    found: dict[tuple[str, str], list[float]] = {}
    for pattern in patterns:
        if pattern.fact not in _MEASURED_FIELDS:
            continue
        name_field, value_field = _MEASURED_FIELDS[pattern.fact]
        names = pattern.where.get(name_field)
        comparison = pattern.where.get(value_field)
        if names is None or not isinstance(comparison, dict):
            continue
        for word in _COMPARISONS:
            operand = comparison.get(word)
            if isinstance(operand, int | float) and not isinstance(operand, bool):
                for name in names if isinstance(names, list) else [names]:
                    found.setdefault((pattern.fact, str(name)), []).append(float(operand))
    return found


def _spellings(concept: Mapping[str, Any], file_aliases: Mapping[str, list[str]]) -> tuple[UnitSpelling, ...]:
    units: dict[str, float] = {str(u): float(f) for u, f in concept["units"].items()}
    spellings = [UnitSpelling(spelling=u, unit=u, factor=f) for u, f in units.items()]
    aliases = {**file_aliases, **(concept.get("unit_aliases") or {})}
    for unit, written in aliases.items():
        if unit in units:
            spellings += [UnitSpelling(spelling=str(w), unit=unit, factor=units[unit]) for w in written]
    return tuple({s.spelling: s for s in spellings}.values())


@functools.lru_cache(maxsize=8)
def load_space(directory: Path | str | None = None) -> RuleSpace:
    """The rule space of a rules directory (default: the shipped rules), read once per directory."""
    root = Path(directory) if directory is not None else DEFAULT_RULES_DIR
    parameters = {
        name: spec.get("value") for name, spec in _read(root / "parameters.yaml")["parameters"].items()
    }
    systems = SystemsFile.model_validate(_read(root / "terminology" / "systems.yaml"))
    definitions = [_read(path) for path in sorted((root / "definitions").glob("*.yaml"))]
    patterns = _patterns(definitions, parameters)
    thresholds = _thresholds(patterns)
    files = {}
    for path in sorted((root / "valuesets").glob("*.yaml")):
        data = _read(path)
        files[data["kind"]] = data
    findings = tuple(
        FindingConcept(
            kind=kind,
            name=name,
            codes=_codes(spec.get("codes") or [], systems),
            text_patterns=tuple(spec.get("text_patterns") or ()),
            group=spec.get("group"),
        )
        for kind in FINDING_KINDS
        for name, spec in files[kind]["concepts"].items()
    )
    measured = tuple(
        MeasuredConcept(
            kind=kind,
            name=name,
            unit=spec["unit"],
            codes=_codes(spec["codes"], systems),
            spellings=_spellings(spec, files[kind].get("unit_aliases") or {}),
            thresholds=tuple(sorted(set(thresholds.get((kind, name), [])))),
        )
        for kind in MEASURED_KINDS
        for name, spec in files[kind]["concepts"].items()
    )
    class_of = {
        entry["code"]: name for name, spec in files["medication"]["classes"].items() for entry in spec["atc"]
    }
    ingredients = tuple(
        MedicationIngredient(
            name=name,
            med_class=class_of[spec["atc"]],
            atc=spec["atc"],
            rxnorm=_codes(spec.get("rxnorm") or [], systems, system="rxnorm"),
            names=tuple(spec.get("names") or ()),
        )
        for name, spec in files["medication"]["ingredients"].items()
    )
    severities = tuple(
        SeverityLevel(
            name=name, words=tuple(spec.get("words") or ()), codes=_codes(spec.get("codes") or [], systems)
        )
        for name, spec in files["severity"]["levels"].items()
    )
    windows = {
        name: value
        for name, value in parameters.items()
        if name.endswith("_days") and isinstance(value, int) and not isinstance(value, bool)
    }
    return RuleSpace(
        directory=root,
        systems=systems,
        findings=findings,
        measured=measured,
        ingredients=ingredients,
        severities=severities,
        body_site_words={region: tuple(words) for region, words in files["body_site"]["regions"].items()},
        windows=windows,
        patterns=patterns,
        context_codes=tuple(
            code
            for spec in files["explaining_condition"]["concepts"].values()
            for code in _codes(spec.get("codes") or [], systems)
        ),
    )
