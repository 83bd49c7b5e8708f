"""Cards assembled from parts validated once are the cards the models would validate from the same fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml

from cds.cards.models import Card, CdsResponse, Coding, Source, assembled, response_of, to_json, validated
from cds.cards.render import RuleCards, UuidFactory, _card, build_cards
from cds.evaluation import Evaluation, Evaluator
from cds.fhir import read_path
from cds.rulebook import Rulebook, RulebookError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EXPECTED: dict[str, Any] = yaml.safe_load((FIXTURES / "expected.yaml").read_text())


def _counted() -> UuidFactory:
    serial = itertools.count(1)
    return lambda: str(UUID(int=next(serial)))


def _evaluated(evaluator: Evaluator, name: str) -> Evaluation:
    spec = EXPECTED["fixtures"][name]
    now = dt.datetime.fromisoformat(EXPECTED["now"])
    return evaluator.evaluate(read_path(FIXTURES / name), patient_id=spec.get("patient"), now=now)


@pytest.mark.parametrize("name", sorted(EXPECTED["fixtures"]))
def test_every_card_of_a_fixture_is_the_card_the_models_validate(evaluator: Evaluator, name: str) -> None:
    evaluation = _evaluated(evaluator, name)
    facts = evaluation.facts
    for finding in evaluation.decision.findings:
        made = [
            _card(finding, facts.by_id(), facts, evaluator.cards, _counted(), build)
            for build in (validated, assembled)
        ]
        assert made[0] == made[1]
        assert to_json(CdsResponse(cards=(made[0],))) == to_json(CdsResponse(cards=(made[1],)))


def test_the_fixtures_give_a_card_of_every_rule(evaluator: Evaluator) -> None:
    fired = {
        f.rule.id for name in EXPECTED["fixtures"] for f in _evaluated(evaluator, name).decision.findings
    }
    assert fired == {rule.id for rule in evaluator.rulebook.rules}


def test_an_assembled_model_is_equal_to_the_validated_one() -> None:
    fields: dict[str, Any] = {
        "uuid": "f653ff6e-ba55-4092-90fe-7bc6a1d8d44e",
        "summary": "No red flags",
        "indicator": "info",
        "source": Source(label="Spasm CDS", topic=Coding(system="urn:x", code="r")),
        "detail": "Nothing urgent",
        "suggestions": None,
        "selectionBehavior": None,
        "overrideReasons": None,
        "links": None,
    }
    made = assembled(Card, dict(fields))
    assert made == validated(Card, dict(fields))
    assert made.model_fields_set == set(Card.model_fields)


def _blank_order_system(rulebook: Rulebook) -> Rulebook:
    blank_system = {
        name: order.model_copy(update={"code": order.code.model_copy(update={"system": " "})})
        if order.code
        else order
        for name, order in rulebook.orders.items()
    }
    return dataclasses.replace(rulebook, version="blank-order-system", orders=blank_system)


def test_an_order_that_cannot_make_a_valid_action_refuses_the_rules_naming_each_rule_file(
    rulebook: Rulebook,
) -> None:
    """The parts are validated as a whole card when the rules load, not on a rule's first card."""
    with pytest.raises(RulebookError) as refused:
        RuleCards(_blank_order_system(rulebook))
    ordering = {rule.id: rule.file for rule in rulebook.rules if rule.spec.card.suggestions}
    assert ordering and {problem.subject for problem in refused.value.problems} == set(ordering)
    problem = refused.value.problems[0]
    assert problem.file == ordering[str(problem.subject)]
    assert problem.field == "card.suggestions.0.actions.0.resource"
    assert "ServiceRequest.code.coding[0].system: empty" in str(problem)


def test_an_evaluator_is_not_built_for_rules_whose_cards_cannot_be_valid(rulebook: Rulebook) -> None:
    with pytest.raises(RulebookError, match=re.escape("ServiceRequest.code.coding[0].system: empty")):
        Evaluator(_blank_order_system(rulebook))


def test_a_malformed_uuid_from_the_factory_is_refused(evaluator: Evaluator) -> None:
    evaluation = _evaluated(evaluator, "urgent-red-flag.json")
    with pytest.raises(ValueError, match="must be a UUID"):
        build_cards(evaluation.decision, evaluation.facts, evaluator.cards, lambda: "card-1")


def test_a_response_of_cards_is_the_response_the_models_validate(evaluator: Evaluator) -> None:
    cards = _evaluated(evaluator, "urgent-red-flag.json").response.cards
    assert response_of(cards) == CdsResponse(cards=cards)


def test_a_response_of_cards_repeating_a_card_uuid_is_refused(evaluator: Evaluator) -> None:
    (card,) = _evaluated(evaluator, "benign-low-magnesium.json").response.cards
    with pytest.raises(ValueError, match=re.escape("cards[1] repeats the uuid of cards[0]")):
        response_of([card, card])


def test_a_response_of_cards_repeating_a_suggestion_uuid_is_refused(evaluator: Evaluator) -> None:
    (card,) = _evaluated(evaluator, "urgent-red-flag.json").response.cards
    again = card.model_copy(update={"uuid": str(UUID(int=1))})
    message = "cards[1].suggestions[0] repeats the uuid of cards[0].suggestions[0]"
    with pytest.raises(ValueError, match=re.escape(message)):
        response_of([card, again])
