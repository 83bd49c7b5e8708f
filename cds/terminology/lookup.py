"""Value sets turned into look-ups, so the fact layer asks "what is this code?" in one dict access.

Terminology is decided here, in Python, before the engine sees a fact: durable-rules hangs on large
alpha networks, so rules match on concept names, never on code lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cds.terminology.codeable import codings, concept_text
from cds.terminology.systems import Coded, CodeSystems
from cds.terminology.valuesets import (
    CodeEntry,
    Concept,
    ConceptFile,
    Measure,
    MeasureFile,
    MedicationClass,
    MedicationFile,
    SeverityFile,
)

Codings = Iterable[tuple[str | None, str | None]]


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
    """The one place a code is looked up: by any spelling of its system, in any form of the code."""

    def __init__(
        self,
        systems: CodeSystems,
        concept_files: list[ConceptFile],
        measured_files: list[MeasureFile],
        medications: MedicationFile,
        severity: SeverityFile,
    ) -> None:
        self.systems = systems
        self.concepts: dict[str, dict[str, Concept]] = {f.kind: dict(f.concepts) for f in concept_files}
        self.measured: dict[str, dict[str, Measure]] = {f.kind: dict(f.concepts) for f in measured_files}
        self.medication_classes: dict[str, MedicationClass] = dict(medications.classes)
        self._exact: dict[Coded, ConceptMatch] = {}
        self._prefix: list[tuple[Coded, ConceptMatch]] = []
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
        rxnorm = systems.uri("rxnorm")
        self._rxnorm: dict[Coded, MedicationMatch] = {}
        names: dict[str, MedicationMatch] = {}
        for ingredient_name, ingredient in medications.ingredients.items():
            match = MedicationMatch(
                self._atc_class[ingredient.atc], ingredient_name, ingredient.atc, "rxnorm"
            )
            for rx in ingredient.rxnorm:
                self._rxnorm[Coded(rxnorm, systems.normalise(rxnorm, rx.code))] = match
            for word in [ingredient_name, *ingredient.names]:
                names[word.lower()] = MedicationMatch(
                    match.med_class, ingredient_name, ingredient.atc, "name"
                )
        self._medication_names = names
        self._all_medications = tuple(dict.fromkeys([*self._rxnorm.values(), *names.values()]))
        self._medication_pattern = _word_pattern(names)
        self.severity_ranks: dict[str, int] = {name: level.rank for name, level in severity.levels.items()}
        self._severity_codes = {
            self._coded(entry): level.rank for level in severity.levels.values() for entry in level.codes
        }
        self._severity_words = [
            (_word_pattern(level.words), level.rank) for level in severity.levels.values()
        ]

    def _coded(self, entry: CodeEntry) -> Coded:
        return Coded(entry.system, self.systems.normalise(entry.system, entry.code))

    def _index(self, kind: str, name: str, codes: list[CodeEntry], region: str | None) -> None:
        for entry in codes:
            match = ConceptMatch(kind, name, entry, entry.region or region)
            if entry.match == "prefix":
                self._prefix.append((self._coded(entry), match))
            else:
                self._exact[self._coded(entry)] = match

    def lookup(self, system: str | None, code: str | None) -> ConceptMatch | None:
        """The concept a coding names, whichever way its system and code are written."""
        coded = self.systems.canonical(system, code)
        if coded is None:
            return None
        found = self._exact.get(coded)
        if found:
            return found
        for prefix, match in self._prefix:
            if prefix.system == coded.system and coded.code.startswith(prefix.code):
                return match
        return None

    def classify(self, codings: Codings, text: str | None) -> ConceptMatch | None:
        """The first coding that names a concept wins; the words only when no coding does."""
        for system, code in codings:
            found = self.lookup(system, code)
            if found:
                return found
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

    def medication(self, codings: Codings, text: str | None) -> MedicationMatch | None:
        found = self.medications(codings, [text] if text else [])
        return found[0] if found else None

    def medications(self, codings: Codings, texts: Iterable[str]) -> tuple[MedicationMatch, ...]:
        """Every ingredient a product names (RxNorm codes first, then words), one match each, so a
        combination product gives the class of each of its ingredients."""
        found: dict[str, MedicationMatch] = {}
        for system, code in codings:
            coded = self.systems.canonical(system, code)
            if coded in self._rxnorm:
                found.setdefault(self._rxnorm[coded].ingredient, self._rxnorm[coded])
        for text in texts:
            for word in self._medication_pattern.finditer(text):
                match = self._medication_names[word.group(1).lower()]
                found.setdefault(match.ingredient, match)
        return tuple(found.values())

    def severity_rank(self, codings: Codings, text: str | None) -> int:
        for system, code in codings:
            coded = self.systems.canonical(system, code)
            rank = self._severity_codes.get(coded) if coded else None
            if rank:
                return rank
        if text:
            for pattern, rank in self._severity_words:
                if pattern.search(text):
                    return rank
        return 0

    def describe(self, resource: Mapping[str, Any]) -> str:
        """'Muscle cramp (SNOMED 55300003)': what a clinician recognises, and the code an analyst checks."""
        concept = resource.get("code")
        text = concept_text(concept) or "(no text)"
        pairs = [(s, c) for s, c in codings(concept) if c]
        if not pairs:
            return text
        system, code = pairs[0]
        return f"{text} ({self.systems.label(system or 'code')} {code})"

    def label(self, kind: str, name: str) -> str:
        if kind in self.concepts:
            return self.concepts[kind][name].label
        if kind in self.measured:
            return self.measured[kind][name].label
        return self.medication_classes[name].label
