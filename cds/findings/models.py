"""Conclusions reached by the rules, kept with the facts behind them: each becomes one card.

msgspec Structs, built in C: `decide` builds a few of them on every call (a frozen dataclass sets each
field through `object.__setattr__`, about five times the cost)."""

from __future__ import annotations

from msgspec import Struct

from cds.rulebook.model import Rule


class Match(Struct, frozen=True):
    """A fact a rule matched, with the words of the rule file saying why it matters."""

    fact_id: str
    reason: str
    role: str  # "all" (required), "any" (one of the alternatives) or "context" (changes the words)
    label: str | None = None
    advice: str | None = None


class Finding(Struct, frozen=True):
    rule: Rule
    matches: tuple[Match, ...]
    context: tuple[Match, ...] = ()
    """Facts of the rule's `when.context` found on the chart: the card takes its in-context words."""


class Suppression(Struct, frozen=True):
    """A rule whose conditions held but that an `unless` held back: shown by --explain, never hidden."""

    rule_id: str
    reasons: tuple[str, ...]
    fact_ids: tuple[str, ...]


class Decision(Struct, frozen=True):
    findings: tuple[Finding, ...]
    suppressed: tuple[Suppression, ...]
