"""Conclusions reached by the rules, kept with the facts behind them: each becomes one card."""

from __future__ import annotations

from dataclasses import dataclass

from cds.rulebook.model import Rule


@dataclass(frozen=True, slots=True)
class Match:
    """A fact a rule matched, with the words of the rule file saying why it matters."""

    fact_id: str
    reason: str
    role: str  # "all" (required), "any" (one of the alternatives) or "context" (changes the words)
    label: str | None = None
    advice: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    matches: tuple[Match, ...]
    context: tuple[Match, ...] = ()
    """Facts of the rule's `when.context` found on the chart: the card takes its in-context words."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """A rule whose conditions held but that an `unless` held back: shown by --explain, never hidden."""

    rule_id: str
    reasons: tuple[str, ...]
    fact_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    findings: tuple[Finding, ...]
    suppressed: tuple[Suppression, ...]
