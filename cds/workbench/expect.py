"""A case's expectations held against an evaluation: each difference said as expected-versus-found."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import orjson

from cds.cards.models import Card
from cds.evaluation import Evaluation
from cds.workbench.cases import Expect
from cds.workbench.references import ParameterUse


@dataclass(frozen=True, slots=True)
class Mismatch:
    check: str
    expected: str
    found: str
    depends_on: tuple[ParameterUse, ...] = ()

    def __str__(self) -> str:
        said = f"{self.check}: expected {self.expected}; found {self.found}"
        if self.depends_on:
            said += "; depends on " + "; ".join(str(use) for use in self.depends_on)
        return said


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a case can check, read once from an evaluation."""

    cards: tuple[str, ...]
    top: str
    held_back: frozenset[str]
    card_text: tuple[str, ...]
    set_aside: tuple[str, ...]

    @classmethod
    def of(cls, evaluation: Evaluation) -> Outcome:
        cards = evaluation.response.cards
        return cls(
            cards=tuple(card.source.topic.code for card in cards if card.source.topic),
            top=cards[0].indicator if cards else "none",
            held_back=frozenset(s.rule_id for s in evaluation.decision.suppressed),
            card_text=tuple(_card_text(card) for card in cards),
            set_aside=tuple(f"{s.reference} {s.what}: {s.reason}" for s in evaluation.facts.set_aside),
        )


def _card_text(card: Card) -> str:
    """Summary, detail, and the suggestions and links (their labels and the orders' codes)."""
    acting = card.model_dump(mode="json", include={"suggestions", "links"}, exclude_none=True)
    return f"{card.summary}\n{card.detail or ''}\n{orjson.dumps(acting).decode()}"


def _listed(items: Collection[str]) -> str:
    return ", ".join(sorted(items)) if items else "(none)"


def mismatches(expect: Expect, outcome: Outcome, depends_on: Sequence[ParameterUse] = ()) -> list[Mismatch]:
    """Every difference; the first names the parameters the case depends on, with their current values."""
    found = _differences(expect, outcome)
    if found and depends_on:
        found[0] = dataclasses.replace(found[0], depends_on=tuple(depends_on))
    return found


def _differences(expect: Expect, outcome: Outcome) -> list[Mismatch]:
    found: list[Mismatch] = []
    fired = set(outcome.cards)
    if expect.cards is not None and set(expect.cards) != fired:
        missing, extra = set(expect.cards) - fired, fired - set(expect.cards)
        found_words = _listed(outcome.cards)
        found_words += f"; missing {_listed(missing)}" if missing else ""
        found_words += f"; not expected {_listed(extra)}" if extra else ""
        found.append(Mismatch("cards", _listed(expect.cards), found_words))
    if expect.top is not None and expect.top != outcome.top:
        found.append(Mismatch("top", expect.top, outcome.top))
    for rule in expect.fired:
        if rule not in fired:
            found.append(Mismatch("fired", f"a card from {rule}", f"cards from {_listed(outcome.cards)}"))
    for rule in expect.not_fired:
        if rule in fired:
            found.append(Mismatch("not fired", f"no card from {rule}", f"a card from {rule}"))
    for rule in expect.held_back:
        if rule not in outcome.held_back:
            found.append(
                Mismatch("held back", f"{rule} held back", f"held back: {_listed(outcome.held_back)}")
            )
    text = "\n".join(outcome.card_text).lower()
    summaries = "; ".join(repr(t.split("\n", 1)[0]) for t in outcome.card_text) or "no cards"
    for words in expect.card_contains:
        if words.lower() not in text:
            found.append(Mismatch("card contains", repr(words), f"in no card ({summaries})"))
    for words in expect.card_lacks:
        if words.lower() in text:
            found.append(Mismatch("card lacks", f"{words!r} in no card", "it in a card"))
    aside = "\n".join(outcome.set_aside).lower()
    for words in expect.set_aside:
        if words.lower() not in aside:
            shown = "; ".join(outcome.set_aside) or "nothing set aside"
            found.append(Mismatch("set aside", f"{words!r} among what was set aside", shown))
    return found
