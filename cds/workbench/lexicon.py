"""The words a test case may use for a concept, taken from the rulebook under test.

A case says "cramp", "magnesium" or "hydrochlorothiazide", never a code: whatever the rules know by a
concept name, a label or a code display, a case can name. The words come from the loaded rulebook, so
cases cannot drift from the rules they test.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cds.rulebook.model import Rulebook
from cds.terminology.valuesets import CodeEntry

Kind = Literal["symptom", "red_flag", "problem", "explaining_condition", "lab", "assessment", "medication"]
FINDING_KINDS: frozenset[str] = frozenset({"symptom", "red_flag", "problem", "explaining_condition"})
MEASURED_KINDS: frozenset[str] = frozenset({"lab", "assessment"})


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Term:
    """What a name stands for: a concept, and the coding a resource for it carries (None: words only)."""

    kind: Kind
    concept: str
    label: str
    coding: Coding | None
    codes: tuple[Coding, ...] = ()
    """Every coding of the concept, so a case may pick one with `code ...`."""


class AmbiguousName(ValueError):
    pass


class UnknownCode(ValueError):
    pass


def _coding(entry: CodeEntry) -> Coding:
    return Coding(entry.system, entry.code, entry.display)


_KINDS: dict[str, Kind] = {
    k: k for k in ("symptom", "red_flag", "problem", "explaining_condition", "lab", "assessment")
}


def _kind(kind: str) -> Kind:
    if kind not in _KINDS:
        raise ValueError(f"value-set kind {kind!r} has no place in a test case")
    return _KINDS[kind]


class Lexicon:
    """Names (case-insensitive) to terms; a name two concepts share is refused as ambiguous when used."""

    def __init__(self, rulebook: Rulebook) -> None:
        self._terminology = rulebook.terminology
        self._terms: dict[str, list[Term]] = {}
        groups: list[tuple[str, dict[str, tuple[str, list[CodeEntry]]]]] = [
            (kind, {key: (c.label, list(self._terminology.codes(kind, key))) for key, c in concepts.items()})
            for kind, concepts in self._terminology.concepts.items()
        ]
        groups += [
            (kind, {key: (m.label, list(self._terminology.codes(kind, key))) for key, m in measured.items()})
            for kind, measured in self._terminology.measured.items()
        ]
        for kind, concepts in groups:
            for key, (label, entries) in concepts.items():
                codes = tuple(_coding(e) for e in entries)
                self._add(
                    [key, key.replace("_", " "), label], Term(_kind(kind), key, label, _first(codes), codes)
                )
                for coding in codes:
                    self._add([coding.display], Term(_kind(kind), key, label, coding, codes))
        for match in self._terminology.all_medications():
            self._add([match.ingredient], Term("medication", match.ingredient, match.ingredient, None))
        ordered = sorted(self._terms, key=len, reverse=True)
        self._pattern = re.compile(r"(" + "|".join(re.escape(n) for n in ordered) + r")(?=[\s,]|$)", re.I)
        self._severity_levels = {rank: name for name, rank in self._terminology.severity_ranks.items()}

    def _add(self, names: Iterable[str], term: Term) -> None:
        for name in names:
            known = self._terms.setdefault(name.strip().lower(), [])
            if all((t.kind, t.concept) != (term.kind, term.concept) for t in known):
                known.append(term)

    def match(self, text: str) -> tuple[Term, str] | None:
        """The term named at the start of `text` (the longest name wins), and the rest of the text."""
        text = text.strip()
        found = self._pattern.match(text)
        if found is None:
            return None
        terms = self._terms[found.group(1).lower()]
        if len(terms) > 1:
            choices = " or ".join(f"{t.kind.replace('_', ' ')} {t.concept}" for t in terms)
            raise AmbiguousName(f"{found.group(1)!r} names more than one concept ({choices})")
        return terms[0], text[found.end() :].strip()

    def suggestions(self, text: str) -> list[str]:
        """Known names close to the first words of `text`, for an error message."""
        words = text.strip().lower().split(",")[0].split()
        if not words:
            return []
        found = sorted((name for name in self._terms if name.startswith(words[0])), key=len)
        for n in range(min(len(words), 6), 0, -1):
            found += difflib.get_close_matches(" ".join(words[:n]), self._terms, n=3, cutoff=0.75)
        return list(dict.fromkeys(found))[:3]

    def with_code(self, term: Term, code: str) -> Term:
        """The term carrying the coding `code` names; raises UnknownCode when the concept has no such code."""
        if term.kind == "medication":
            return self._medication_code(term, code)
        systems = self._terminology.systems
        for coding in term.codes:
            if systems.canonical(coding.system, code) == systems.canonical(coding.system, coding.code):
                return Term(term.kind, term.concept, term.label, coding, term.codes)
        known = ", ".join(c.code for c in term.codes) or "none: it is recognised by its words"
        raise UnknownCode(f"{code!r} is not a code of {term.label} in the value sets (codes: {known})")

    def _medication_code(self, term: Term, code: str) -> Term:
        rxnorm = self._terminology.systems.uri("rxnorm")
        match = self._terminology.medication([(rxnorm, code)], None)
        if match is None or match.ingredient != term.concept:
            raise UnknownCode(
                f"RxNorm {code!r} is not listed for {term.concept} in the medication value set "
                "(without a code the medication is named by its ingredient)"
            )
        return Term(term.kind, term.concept, term.label, Coding(rxnorm, code, term.concept), term.codes)

    def severity(self, word: str) -> str | None:
        """The severity level (mild, moderate, severe) a word means to the rules, or None."""
        rank = self._terminology.severity_rank([], word)
        return self._severity_levels.get(rank) if rank else None


def _first(codes: tuple[Coding, ...]) -> Coding | None:
    return codes[0] if codes else None
