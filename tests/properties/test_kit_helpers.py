"""The kit's helpers: how responses are compared, what counts as cited, how a unit is rewritten."""

from __future__ import annotations

from typing import Any

import pytest

from cds.testing.compare import assert_same_cards, cited_references, comparable_cards, top_indicator
from cds.testing.space import RuleSpace
from cds.testing.units import in_unit

DETAIL = (
    "Why.\n\n**Why this card**\n\n- **cramp**: current. Evidence: `Condition/c-1` (2026-11-01) Cramp"
    "\n\n**Set aside**\n\n- `Observation/o-9` Cramp: status is entered-in-error"
    "\n\n_Rule `spasm-red-flag` version 1.0.0 (rules abc)._"
)
CARD: dict[str, Any] = {
    "uuid": "6f1c1f43-2b5e-4c57-9c3a-6a9a2f6f1b10",
    "summary": "Prompt neurology evaluation",
    "indicator": "warning",
    "source": {"label": "x", "topic": {"system": "urn:x", "code": "spasm-red-flag"}},
    "detail": DETAIL,
    "suggestions": [
        {
            "label": "Refer",
            "uuid": "0c1e5f0a-43f4-4f6e-8d8e-2b3a4c5d6e7f",
            "actions": [
                {
                    "type": "create",
                    "description": "Create",
                    "resource": {
                        "resourceType": "ServiceRequest",
                        "reasonReference": [{"reference": "Condition/w-2"}],
                    },
                }
            ],
        }
    ],
}


def test_comparable_cards_leave_out_every_uuid() -> None:
    [card] = comparable_cards({"cards": [CARD]})
    assert "uuid" not in card and "uuid" not in card["suggestions"][0]


def test_comparable_cards_can_leave_out_the_set_aside_section() -> None:
    [card] = comparable_cards({"cards": [CARD]}, set_aside=False)
    assert "Observation/o-9" not in card["detail"]
    assert card["detail"].endswith("_Rule `spasm-red-flag` version 1.0.0 (rules abc)._")


def test_cited_references_come_from_the_detail_and_the_suggested_orders() -> None:
    assert cited_references({"cards": [CARD]}) == {"Condition/c-1", "Observation/o-9", "Condition/w-2"}


def test_top_indicator_is_the_most_urgent_card() -> None:
    info = {**CARD, "indicator": "info"}
    assert top_indicator({"cards": [info, CARD]}) == "warning"
    assert top_indicator({"cards": []}) is None


def test_different_cards_fail_with_a_line_diff() -> None:
    with pytest.raises(AssertionError, match=r'-    "summary": "Prompt neurology evaluation"'):
        assert_same_cards(
            comparable_cards({"cards": [{**CARD, "summary": "Other"}]}), comparable_cards({"cards": [CARD]})
        )


def test_a_lab_in_another_unit_keeps_its_value_and_its_unitless_range(space: RuleSpace) -> None:
    magnesium = next(m for m in space.measured if m.name == "magnesium")
    lab = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2601-3"}]},
        "valueQuantity": {
            "value": 0.7,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        },
        "referenceRange": [{"low": {"value": 0.66}, "high": {"value": 1.07, "unit": "mmol/L"}}],
    }
    non_ucum = magnesium.spelling("mEq/L")
    assert non_ucum is not None
    rewritten = in_unit(lab, magnesium, non_ucum)
    assert rewritten["valueQuantity"] == {"value": pytest.approx(1.4), "unit": "mEq/L"}
    assert rewritten["referenceRange"] == [
        {"low": {"value": pytest.approx(1.32)}, "high": lab["referenceRange"][0]["high"]}
    ]
