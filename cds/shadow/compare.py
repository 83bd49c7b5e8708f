"""The two sides of a shadowed call, compared the way a CDS committee reads them: by rule and urgency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from cds.store import ShadowCard, ShadowRecord

INDICATORS = ("none", "info", "warning", "critical")
"""Least to most urgent; `none` is a call without a card."""


def top_indicator(cards: Iterable[ShadowCard]) -> str:
    return max((card.indicator for card in cards), key=INDICATORS.index, default="none")


def outline(cards: Iterable[ShadowCard]) -> Counter[tuple[str, str]]:
    """(rule id, indicator) of each card: what a clinician would see, free of uuids and versions."""
    return Counter((card.rule_id, card.indicator) for card in cards)


def differs(record: ShadowRecord) -> bool:
    return outline(record.live_cards) != outline(record.candidate_cards)


def rule_indicator(cards: Iterable[ShadowCard], rule_id: str) -> str:
    """The indicator of the rule's card on one side of a call, `none` when the rule gave none."""
    return top_indicator(card for card in cards if card.rule_id == rule_id)
