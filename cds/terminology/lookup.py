"""Value sets turned into look-ups, so the fact layer asks "what is this code?" in one dict access.

Terminology is decided here, in Python, before the engine sees a fact: durable-rules hangs on large
alpha networks, so rules match on concept names, never on code lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from cds.terminology.codeable import codings, concept_text
from cds.terminology.families import Family, FamilyKey, family_key
from cds.terminology.icd10cm import Icd10CmTabular
from cds.terminology.memo import Memo
from cds.terminology.presence import PresenceVocabulary
from cds.terminology.systems import Coded, CodeSystems
from cds.terminology.valuesets import (
    CodeEntry,
    Concept,
    ConceptFile,
    Ingredient,
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
    on_text: str | None = None
    """The words it was recognised by, when no coding named it (text is the last resort)."""


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
        families: Mapping[FamilyKey, Family],
        presence: PresenceVocabulary,
        imported: Mapping[tuple[str, str], Sequence[CodeEntry]],
    ) -> None:
        self.systems = systems
        self.families = dict(families)
        self.presence = presence
        self.concepts: dict[str, dict[str, Concept]] = {f.kind: dict(f.concepts) for f in concept_files}
        self.measured: dict[str, dict[str, Measure]] = {f.kind: dict(f.concepts) for f in measured_files}
        self.medication_classes: dict[str, MedicationClass] = dict(medications.classes)
        self.medication_ingredients: dict[str, Ingredient] = dict(medications.ingredients)
        self._exact: dict[Coded, ConceptMatch] = {}
        self._codes: dict[tuple[str, str], tuple[CodeEntry, ...]] = {}
        self._text: list[tuple[re.Pattern[str], ConceptMatch]] = []
        self._by_code: Memo[bytes, ConceptMatch | None] = Memo(self._finding_of_json)
        self._by_words: Memo[str, ConceptMatch | None] = Memo(self._first_named)
        self._descriptions: Memo[bytes, str] = Memo(self._description_of_json)
        self._by_medication: Memo[bytes, tuple[MedicationMatch, ...]] = Memo(self._medications_of_json)
        self._unit_aliases: dict[tuple[str, str], dict[str, str]] = {}
        for kind, concepts in self.concepts.items():
            for name, concept in concepts.items():
                self._index(kind, name, [*concept.codes, *imported.get((kind, name), ())], concept.region)
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
        self.top_severity_rank = max(self.severity_ranks.values(), default=0)
        self.severity_names: dict[int, str] = {rank: name for name, rank in self.severity_ranks.items()}
        self._written: list[tuple[str, CodeEntry]] = [
            (f"{kind} {name}", entry)
            for kind, concepts in self.concepts.items()
            for name, concept in concepts.items()
            for entry in [*concept.codes, *imported.get((kind, name), ())]
        ]
        self._written += [
            (f"{kind} {name}", entry)
            for kind, measures in self.measured.items()
            for name, measure in measures.items()
            for entry in measure.codes
        ]
        self._written += [
            (f"severity {name}", e) for name, level in severity.levels.items() for e in level.codes
        ]
        self._written += [(f"presence {said}", entry) for said, entry in presence.entries]
        self._severity_codes = {
            self._coded(entry): level.rank for level in severity.levels.values() for entry in level.codes
        }
        self._severity_words = [
            (_word_pattern(level.words), level.rank) for level in severity.levels.values()
        ]

    def _coded(self, entry: CodeEntry) -> Coded:
        return Coded(entry.system, self.systems.normalise(entry.system, entry.code))

    def _index(self, kind: str, name: str, codes: list[CodeEntry], region: str | None) -> None:
        """A code written out wins over the same code reached through a family (it may name a region)."""
        expanded: list[CodeEntry] = []
        for entry in codes:
            members = self._members(entry)
            expanded += members
            for member in members:
                match = ConceptMatch(kind, name, member, member.region or region)
                if entry.descendants:
                    self._exact.setdefault(self._coded(member), match)
                else:
                    self._exact[self._coded(member)] = match
        self._codes[(kind, name)] = tuple(expanded)

    def _members(self, entry: CodeEntry) -> list[CodeEntry]:
        if not entry.descendants:
            return [entry]
        family = self.family(entry)
        return [
            entry.model_copy(
                update={
                    "code": member.code,
                    "display": member.display,
                    "status": "confirmed",
                    "source": f"ICD-10-CM tabular ({family.tabular})",
                    "note": None if member.code == family.code else f"below {family.code}",
                    "descendants": False,
                    "exclude": [],
                }
            )
            for member in family.members
        ]

    def family(self, entry: CodeEntry) -> Family:
        """The expansion of a `descendants: true` code (the rulebook expanded every one at load)."""
        normal = [self.systems.normalise(entry.system, c) for c in (entry.code, *entry.exclude)]
        return self.families[family_key(normal[0], normal[1:])]

    def written_codes(self) -> list[tuple[str, CodeEntry]]:
        """Every code as the value sets write it (families unexpanded), with the concept it belongs to."""
        return list(self._written)

    def codes(self, kind: str, name: str) -> tuple[CodeEntry, ...]:
        """Every code of a concept, families expanded (their members carry the tabular as source)."""
        return self._codes.get((kind, name), ())

    def lookup(self, system: str | None, code: str | None) -> ConceptMatch | None:
        """The concept a coding names, whichever way its system and code are written."""
        coded = self.systems.canonical(system, code)
        if coded is None:
            return None
        return self._exact.get(coded)

    def descendants(self, system: str, code: str) -> tuple[str, ...]:
        """Codes below `code` in its system's hierarchy (ICD-10-CM: the tabular, read on first use, about
        2 s: for authoring and checks, not per request); () for a system without one."""
        coded = self.systems.canonical(system, code)
        if coded is None or self.systems.hierarchy(coded.system) is None:
            return ()
        tabular = Icd10CmTabular()
        return tuple(tabular.descendants(coded.code)) if tabular.is_code(coded.code) else ()

    def classify(self, codings: Codings, text: str | None) -> ConceptMatch | None:
        """The first coding that names a concept wins; the words only when no coding does."""
        for system, code in codings:
            found = self.lookup(system, code)
            if found:
                return found
        return self._by_text(text) if text else None

    def _by_text(self, text: str) -> ConceptMatch | None:
        return self._by_words.get(text)

    def _first_named(self, text: str) -> ConceptMatch | None:
        """The concept named first in the text (the longest words at the same place win)."""
        best: tuple[int, int, ConceptMatch, str] | None = None
        for pattern, match in self._text:
            found = pattern.search(text)
            if found and (best is None or (found.start(), -len(found.group())) < (best[0], best[1])):
                best = (found.start(), -len(found.group()), match, found.group())
        if best is None:
            return None
        _, _, match, words = best
        return ConceptMatch(match.kind, match.name, None, match.region, on_text=words)

    def finding(self, resource: Mapping[str, Any]) -> ConceptMatch | None:
        """Which concept a Condition or Observation names: by its codes, else by the words of its code."""
        return self._concept_finding(resource.get("code"))

    def finding_of_code_text(self, code_text: bytes) -> ConceptMatch | None:
        """`finding` of a resource whose `code` is this JSON text (`RawResource.code_key`): a code a
        chart repeats costs one look-up."""
        return self._by_code.get(code_text)

    def findings_of_code_texts(self, code_texts: Sequence[bytes | None]) -> list[ConceptMatch | None]:
        """`finding_of_code_text` of each text, None where there is no text: a chart's thousand codes,
        mostly repeated, in one pass."""
        return self._by_code.get_each(code_texts)

    def _finding_of_json(self, code_text: bytes) -> ConceptMatch | None:
        return self._concept_finding(orjson.loads(code_text))

    def _concept_finding(self, concept: object) -> ConceptMatch | None:
        return self.classify(codings(concept), concept_text(concept))

    def absent_because(self, resource: Mapping[str, Any], match: ConceptMatch) -> str | None:
        """What in the resource says the finding is absent (`interpretation 'Negative' (...)`, `text 'no
        weakness'`), or None. Only findings (symptoms, red flags, problems) can be absent: a lab's
        NEG is a result, read by the lab rules."""
        if match.kind not in self.concepts:
            return None
        if resource.get("resourceType") == "Observation":
            reading = self.presence.of_observation(resource)
            if reading is not None:
                return reading.because if reading.presence == "absent" else None
        text = concept_text(resource.get("code"))
        if not text:
            return None
        if match.on_text is not None:
            start = text.lower().find(match.on_text.lower())
            negation = self.presence.negated(text, start, start + len(match.on_text)) if start >= 0 else None
            return f"text {negation!r}" if negation else None
        return f"text {text!r}" if self.presence.opens_with_negation(text) else None

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

    def medications_of_concept_text(self, concept_text_json: bytes) -> tuple[MedicationMatch, ...]:
        """`medications` of a product named only by this CodeableConcept, as JSON text
        (`RawResource.medication_key`): a product a chart repeats costs one look-up."""
        return self._by_medication.get(concept_text_json)

    def _medications_of_json(self, concept_text_json: bytes) -> tuple[MedicationMatch, ...]:
        concept = orjson.loads(concept_text_json)
        text = concept_text(concept)
        return self.medications(codings(concept), [text] if text else [])

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
        return self._describe(resource.get("code"))

    def describe_code_text(self, code_text: bytes) -> str:
        """`describe` of a resource whose `code` is this JSON text (`RawResource.code_key`)."""
        return self._descriptions.get(code_text)

    def _description_of_json(self, code_text: bytes) -> str:
        return self._describe(orjson.loads(code_text))

    def _describe(self, concept: object) -> str:
        text = concept_text(concept) or "(no text)"
        pairs = [(s, c) for s, c in codings(concept) if c]
        if not any(self.lookup(s, c) for s, c in pairs):
            by_text = self._by_text(text)
            if by_text is not None:
                return f"{text} (matched on text {by_text.on_text!r})"
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
