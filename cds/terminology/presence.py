"""Is the finding there? The vocabulary of presence and absence (`rules/terminology/presence.yaml`).

An Observation about weakness whose value is "Absent", whose interpretation is NEG or whose text says
"no weakness" records that the patient does NOT have it; read as presence it would raise a red flag
for exactly the patient who was examined and found well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from cds.fhir import clean_text
from cds.frozen import Frozen
from cds.terminology.codeable import codings
from cds.terminology.schema import Text
from cds.terminology.systems import Coded, CodeSystems
from cds.terminology.valuesets import CodeEntry

Presence = Literal["present", "absent"]
CLAUSE_END = re.compile(r"[.;\n]")


class Signals(Frozen):
    codes: list[CodeEntry] = []
    """Codes of valueCodeableConcept or interpretation that say it."""
    values: list[Text] = []
    """A whole valueString that says it ("No", "Not present")."""


class Negation(Frozen):
    before: list[Text]
    after: list[Text]
    not_negation: list[Text] = []
    scope_ends: list[Text] = []
    """Words that end a negation's reach ("no fever but dysphagia": the dysphagia is not denied)."""
    window: int = Field(default=3, ge=0, le=10)
    """At most this many words between a negation word and the finding it negates."""


class PresenceFile(Frozen):
    kind: Literal["presence"]
    absent: Signals
    present: Signals
    negation: Negation


@dataclass(frozen=True, slots=True)
class Reading:
    presence: Presence
    because: str
    """What said so: `interpretation NEG`, `value 'Absent' (SNOMED 2667000)`, `text 'no weakness'`."""


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted({w.lower() for w in words}, key=len, reverse=True))


class PresenceVocabulary:
    def __init__(self, spec: PresenceFile, systems: CodeSystems) -> None:
        self._systems = systems
        self.entries: tuple[tuple[Presence, CodeEntry], ...] = (
            *(("absent", e) for e in spec.absent.codes),
            *(("present", e) for e in spec.present.codes),
        )
        self._codes: dict[Coded, tuple[Presence, CodeEntry]] = {}
        for presence, signals in (("absent", spec.absent), ("present", spec.present)):
            for entry in signals.codes:
                coded = systems.canonical(entry.system, entry.code)
                if coded is not None:
                    self._codes[coded] = (presence, entry)  # type: ignore[assignment]
        self._values: dict[str, Presence] = {v.lower(): "absent" for v in spec.absent.values}
        self._values.update({v.lower(): "present" for v in spec.present.values})
        self._before = re.compile(r"\b(" + _alternatives(spec.negation.before) + r")\b", re.IGNORECASE)
        self._opening = re.compile(r"^\W*(" + _alternatives(spec.negation.before) + r")\b", re.IGNORECASE)
        self._after = re.compile(r"\b(" + _alternatives(spec.negation.after) + r")\b", re.IGNORECASE)
        self._not_negation = (
            re.compile(r"\b(" + _alternatives(spec.negation.not_negation) + r")\b", re.IGNORECASE)
            if spec.negation.not_negation
            else None
        )
        self._scope_end = (
            re.compile(r"\b(" + _alternatives(spec.negation.scope_ends) + r")\b", re.IGNORECASE)
            if spec.negation.scope_ends
            else None
        )
        self._window = spec.negation.window

    def _coded(self, concept: object, where: str) -> Reading | None:
        for system, code in codings(concept):
            coded = self._systems.canonical(system, code)
            found = self._codes.get(coded) if coded else None
            if found:
                presence, entry = found
                label = self._systems.label(entry.system)
                return Reading(presence, f"{where} {entry.display!r} ({label} {entry.code})")
        return None

    def of_observation(self, resource: Mapping[str, Any]) -> Reading | None:
        """What an Observation's value, interpretation or text says; None when it says neither."""
        readings: list[Reading] = []
        if isinstance(resource.get("valueBoolean"), bool):
            flag = resource["valueBoolean"]
            readings.append(Reading("present" if flag else "absent", f"valueBoolean {str(flag).lower()}"))
        value = self._coded(resource.get("valueCodeableConcept"), "value")
        if value:
            readings.append(value)
        for interpretation in resource.get("interpretation") or []:
            found = self._coded(interpretation, "interpretation")
            if found:
                readings.append(found)
        text = resource.get("valueString")
        if isinstance(text, str):
            said = self._values.get(clean_text(text).strip(" .!").lower())
            if said:
                readings.append(Reading(said, f"value {text.strip()!r}"))
        if not readings:
            return None
        present = next((r for r in readings if r.presence == "present"), None)
        return present or readings[0]

    def _ends_scope(self, text: str, start: int, end: int) -> bool:
        return self._scope_end is not None and self._scope_end.search(text, start, end) is not None

    def opens_with_negation(self, text: str) -> bool:
        """'No dysphagia', 'Denies weakness': words that deny what follows them, first in the text
        ("No fever but dysphagia" denies only the fever)."""
        words = clean_text(text)
        opening = self._opening.search(words)
        return (
            opening is not None
            and (self._not_negation is None or not self._not_negation.match(words, opening.start(1)))
            and not self._ends_scope(words, opening.end(), len(words))
        )

    def negated(self, text: str, start: int, end: int) -> str | None:
        """The negating words around `text[start:end]` (a finding named in free text), within its clause."""
        clause_start = max((m.end() for m in CLAUSE_END.finditer(text, 0, start)), default=0)
        following = CLAUSE_END.search(text, end)
        clause_end = following.start() if following else len(text)
        for cue in reversed(list(self._before.finditer(text, clause_start, start))):
            between = text[cue.end() : start].split()
            pseudo = self._not_negation.match(text, cue.start()) if self._not_negation else None
            if (
                len(between) <= self._window
                and pseudo is None
                and not self._ends_scope(text, cue.end(), start)
            ):
                return text[cue.start() : end].strip()
        after = self._after.search(text, end, clause_end)
        if after and not self._ends_scope(text, end, after.start()):
            return text[start : after.end()].strip()
        return None
