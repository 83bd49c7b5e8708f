"""Reading CDS Hooks responses the way properties compare them: without uuids, by rule, by urgency.

Everything here takes the response as JSON (a dict, bytes or text), so it works the same on the
library's `CdsResponse` (via `cds.cards.to_dict`) and on an HTTP body.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import orjson

INDICATOR_RANK = {"info": 1, "warning": 2, "critical": 3}
_SET_ASIDE = re.compile(r"\n\n\*\*Set aside\*\*\n\n.*?(?=\n\n_Rule |\Z)", re.DOTALL)
_CITED = re.compile(r"`([A-Z][A-Za-z]+/[^`\s]+)`")

Body = Mapping[str, Any] | bytes | str


def _cards(response: Body) -> list[dict[str, Any]]:
    body = orjson.loads(response) if isinstance(response, bytes | str) else response
    cards: list[dict[str, Any]] = body["cards"]
    return cards


def _without_uuids(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_uuids(v) for k, v in value.items() if k != "uuid"}
    if isinstance(value, list):
        return [_without_uuids(v) for v in value]
    return value


def comparable_cards(response: Body, *, set_aside: bool = True) -> list[dict[str, Any]]:
    """The cards without their uuids (fresh on every call by design). With `set_aside=False` the detail's
    "Set aside" section is dropped too: it lists every recognised resource that was not used, so it
    rightly grows when other patients' or entered-in-error resources are added."""
    cards = [_without_uuids(card) for card in _cards(response)]
    if not set_aside:
        for card in cards:
            if "detail" in card:
                card["detail"] = _SET_ASIDE.sub("", card["detail"])
    return cards


def rule_ids(response: Body) -> list[str]:
    """The rule behind each card, in the order shown (this service names it in `source.topic.code`)."""
    return [card["source"]["topic"]["code"] for card in _cards(response)]


def outline(response: Body) -> list[tuple[str, str, str]]:
    """(rule id, indicator, summary) of each card: what a clinician acts on, free of evidence wording."""
    return [
        (card["source"]["topic"]["code"], card["indicator"], card["summary"]) for card in _cards(response)
    ]


def top_indicator(response: Body) -> str | None:
    """The most urgent indicator among the cards; None when there are none."""
    indicators = [card["indicator"] for card in _cards(response)]
    return max(indicators, key=INDICATOR_RANK.__getitem__) if indicators else None


def indicator_rank(indicator: str | None) -> int:
    return 0 if indicator is None else INDICATOR_RANK[indicator]


def cited_references(response: Body) -> set[str]:
    """Every `Type/id` a card cites: the reasonReference of its suggested orders and the `Type/id` written
    in backquotes in its detail."""
    cited: set[str] = set()
    for card in _cards(response):
        cited.update(_CITED.findall(card.get("detail", "")))
        for suggestion in card.get("suggestions", []):
            for action in suggestion.get("actions", []):
                for reason in action.get("resource", {}).get("reasonReference", []):
                    cited.add(reason["reference"])
    return cited


def assert_same_cards(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Equality of two `comparable_cards` lists, failing with a line diff a person can read."""
    if actual == expected:
        return
    want = orjson.dumps(expected, option=orjson.OPT_INDENT_2).decode().splitlines()
    got = orjson.dumps(actual, option=orjson.OPT_INDENT_2).decode().splitlines()
    diff = "\n".join(difflib.unified_diff(want, got, "expected", "actual", lineterm="", n=1))
    raise AssertionError(f"the cards differ:\n{diff}")
