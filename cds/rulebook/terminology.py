"""Value sets turned into lookups, so the fact layer asks "what is this code?" in one dict access.

Terminology is decided here, in Python, before the engine sees a fact: durable-rules hangs on large
alpha networks, so rules match on concept names, never on code lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cds.rulebook.codesystems import ICD10CM, SYSTEMS, normalise_code
from cds.rulebook.files import (
    BodySiteFile,
    CodeEntry,
    Concept,
    ConceptFile,
    MeasuredConcept,
    MeasuredFile,
    MedicationClass,
    MedicationFile,
    SeverityFile,
)

RXNORM = SYSTEMS["rxnorm"]


@dataclass(frozen=True, slots=True)
class ConceptMatch:
    kind: str
    name: str
    code: CodeEntry | None
    region: str | None


@dataclass(frozen=True, slots=True)
class MedicationMatch:
    med_class: str
    ingredient: str
    atc: str
    matched_by: str


def _word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    alternatives = sorted({w.lower() for w in words}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in alternatives) + r")", re.IGNORECASE)


class Terminology:
    def __init__(
        self,
        concept_files: list[ConceptFile],
        measured_files: list[MeasuredFile],
        medications: MedicationFile,
        severity: SeverityFile,
        body_sites: BodySiteFile,
    ) -> None:
        self.concepts: dict[str, dict[str, Concept]] = {f.kind: dict(f.concepts) for f in concept_files}
        self.measured: dict[str, dict[str, MeasuredConcept]] = {
            f.kind: dict(f.concepts) for f in measured_files
        }
        self.medication_classes: dict[str, MedicationClass] = dict(medications.classes)
        self._exact: dict[tuple[str, str], ConceptMatch] = {}
        self._prefix: list[tuple[str, str, ConceptMatch]] = []
        self._text: list[tuple[re.Pattern[str], ConceptMatch]] = []
        self._unit_aliases: dict[tuple[str, str], dict[str, str]] = {}
        for kind, concepts in self.concepts.items():
            for name, concept in concepts.items():
                self._index(kind, name, concept.codes, concept.region)
                if concept.text_patterns:
                    self._text.append(
                        (_word_pattern(concept.text_patterns), ConceptMatch(kind, name, None, concept.region))
                    )
        for measured_file in measured_files:
            for name, measured in measured_file.concepts.items():
                self._index(measured_file.kind, name, measured.codes, None)
                aliases = {**measured_file.unit_aliases, **measured.unit_aliases}
                table = {unit.lower(): unit for unit in measured.units}
                for canonical, spellings in aliases.items():
                    if canonical in measured.units:
                        table.update({s.lower(): canonical for s in spellings})
                self._unit_aliases[(measured_file.kind, name)] = table
        self._atc_class = {entry.code: cls for cls, c in medications.classes.items() for entry in c.atc}
        self._rxnorm: dict[str, MedicationMatch] = {}
        names: dict[str, MedicationMatch] = {}
        for ingredient_name, ingredient in medications.ingredients.items():
            match = MedicationMatch(
                self._atc_class[ingredient.atc], ingredient_name, ingredient.atc, "rxnorm"
            )
            for rx in ingredient.rxnorm:
                self._rxnorm[rx.code] = match
            for word in [ingredient_name, *ingredient.names]:
                names[word.lower()] = MedicationMatch(
                    match.med_class, ingredient_name, ingredient.atc, "name"
                )
        self._medication_names = names
        self._all_medications = tuple(dict.fromkeys([*self._rxnorm.values(), *names.values()]))
        self._medication_pattern = _word_pattern(names)
        self.severity_ranks: dict[str, int] = {name: level.rank for name, level in severity.levels.items()}
        self._severity_codes = {
            (entry.system, entry.code): level.rank
            for level in severity.levels.values()
            for entry in level.codes
        }
        self._severity_words = [
            (_word_pattern(level.words), level.rank) for level in severity.levels.values()
        ]
        self._regions = [(_word_pattern(words), region) for region, words in body_sites.regions.items()]

    def _index(self, kind: str, name: str, codes: list[CodeEntry], region: str | None) -> None:
        for entry in codes:
            match = ConceptMatch(kind, name, entry, entry.region or region)
            code = normalise_code(entry.system, entry.code)
            if entry.match == "prefix":
                self._prefix.append((entry.system, code, match))
            else:
                self._exact[(entry.system, code)] = match

    def classify(
        self, codings: Iterable[tuple[str | None, str | None]], text: str | None
    ) -> ConceptMatch | None:
        for system, code in codings:
            if not system or not code:
                continue
            normal = normalise_code(system, code)
            found = self._exact.get((system, normal))
            if found:
                return found
            if system == ICD10CM:
                for prefix_system, prefix, match in self._prefix:
                    if prefix_system == system and normal.startswith(prefix):
                        return match
        if text:
            for pattern, match in self._text:
                if pattern.search(text):
                    return match
        return None

    def canonical_unit(self, kind: str, name: str, unit: str | None) -> str | None:
        if not unit:
            return None
        return self._unit_aliases[(kind, name)].get(unit.strip().lower())

    def convert(self, kind: str, name: str, value: float, unit: str) -> float:
        return value * self.measured[kind][name].units[unit]

    def all_medications(self) -> tuple[MedicationMatch, ...]:
        return self._all_medications

    def medication(
        self, codings: Iterable[tuple[str | None, str | None]], text: str | None
    ) -> MedicationMatch | None:
        for system, code in codings:
            if system == RXNORM and code and code in self._rxnorm:
                return self._rxnorm[code]
        if text:
            found = self._medication_pattern.search(text)
            if found:
                return self._medication_names[found.group(1).lower()]
        return None

    def severity_rank(self, codings: Iterable[tuple[str | None, str | None]], text: str | None) -> int:
        for system, code in codings:
            rank = self._severity_codes.get((system or "", code or ""))
            if rank:
                return rank
        if text:
            for pattern, rank in self._severity_words:
                if pattern.search(text):
                    return rank
        return 0

    def region_of(self, text: str) -> str | None:
        for pattern, region in self._regions:
            if pattern.search(text):
                return region
        return None

    def label(self, kind: str, name: str) -> str:
        if kind in self.concepts:
            return self.concepts[kind][name].label
        if kind in self.measured:
            return self.measured[kind][name].label
        return self.medication_classes[name].label
