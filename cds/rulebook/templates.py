"""Card text templates: which placeholders exist, and how long a summary can get at worst.

The summary limit (under 140 characters) is checked when rules load, against the longest value each
placeholder can take, so no record can ever produce an invalid card.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SUMMARY_LIMIT = 139

SINGLE = {
    "symptom": "symptom",
    "red_flag": "red_flag",
    "pattern": "pattern",
    "contributor": "contributor",
    "context": "context",
}
LISTS = {
    "symptoms": "symptom",
    "red_flags": "red_flag",
    "patterns": "pattern",
    "contributors": "contributor",
    "contexts": "context",
}
BRIEF = {
    "symptoms_brief": "symptom",
    "red_flags_brief": "red_flag",
    "patterns_brief": "pattern",
    "contributors_brief": "contributor",
    "context_brief": "context",
}
COUNTS = {"symptom_count", "red_flag_count", "pattern_count", "contributor_count", "context_count"}
COUNT_WIDTH = 3
BRIEF_MORE = " and {count} more"


class TemplateError(ValueError):
    pass


def placeholders(template: str) -> list[str]:
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"bad braces: {exc} (write {{{{ and }}}} for literal braces)") from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"placeholder {{{name}}} must be a bare name, like {{symptom}}")
        names.append(name)
    return names


def _several(words: Sequence[str]) -> list[str] | None:
    """The distinct words, in order, when there are two or more, else None. One word or none is the
    common case, and is answered before the repeats are dropped (0.5 -> 0.1 µs)."""
    if len(words) > 1:
        items = list(dict.fromkeys(words))
        if len(items) > 1:
            return items
    return None


def brief(words: Sequence[str]) -> str:
    """The first item and how many more: a list that fits in a summary."""
    items = _several(words)
    if items:
        return items[0] + BRIEF_MORE.format(count=len(items) - 1)
    return words[0] if words else ""


def join_words(words: Sequence[str]) -> str:
    items = _several(words)
    if items:
        return ", ".join(items[:-1]) + " and " + items[-1]
    return words[0] if words else ""


@dataclass(frozen=True)
class Vocabulary:
    """Every label each placeholder role can take, to bound the text it can produce."""

    labels: Mapping[str, frozenset[str]]
    parameters: Mapping[str, str]
    constants: Mapping[str, str]

    def parameters_only(self) -> Vocabulary:
        return Vocabulary(labels=self.labels, parameters=self.parameters, constants={})

    def known(self) -> set[str]:
        if not self.constants:
            return set(self.parameters)
        return set(SINGLE) | set(LISTS) | set(BRIEF) | COUNTS | set(self.constants) | set(self.parameters)

    def longest(self, name: str) -> int:
        if name in SINGLE:
            return max((len(label) for label in self.labels[SINGLE[name]]), default=0)
        if name in LISTS:
            return len(join_words(sorted(self.labels[LISTS[name]])))
        if name in BRIEF:
            longest = max((len(label) for label in self.labels[BRIEF[name]]), default=0)
            return longest + len(BRIEF_MORE.format(count=10**COUNT_WIDTH - 1))
        if name in COUNTS:
            return COUNT_WIDTH
        if name in self.constants:
            return len(self.constants[name])
        return len(self.parameters[name])


def check_template(template: str, vocabulary: Vocabulary, *, limit: int | None) -> None:
    names = placeholders(template)
    unknown = [n for n in names if n not in vocabulary.known()]
    if unknown:
        raise TemplateError(
            f"unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(vocabulary.known()))})"
        )
    if limit is None:
        return
    literal = len(template) - sum(len(n) + 2 for n in names)
    worst = literal + sum(vocabulary.longest(n) for n in names)
    if worst > limit:
        longest = max(names, key=vocabulary.longest) if names else ""
        hint = f"; {{{longest}}} alone can be {vocabulary.longest(longest)} characters" if names else ""
        raise TemplateError(f"can reach {worst} characters (a summary must stay under 140){hint}")
