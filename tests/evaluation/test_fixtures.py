"""Every shipped fixture gives the outcome fixtures/expected.yaml states, through `cds evaluate`'s path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cds.cards.models import to_dict
from cds.cli.main import cli
from cds.evaluation import Evaluator
from cds.fhir import read_path
from cds.testing.checker import assert_valid_cds_response

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EXPECTED: dict[str, Any] = yaml.safe_load((FIXTURES / "expected.yaml").read_text())
NOW = dt.datetime.fromisoformat(EXPECTED["now"])


def _evaluate(evaluator: Evaluator, name: str) -> Any:
    spec = EXPECTED["fixtures"][name]
    return evaluator.evaluate(read_path(FIXTURES / name), patient_id=spec.get("patient"), now=NOW)


def test_every_fixture_file_has_an_expected_outcome() -> None:
    files = {p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".ndjson")}
    assert files == set(EXPECTED["fixtures"])


@pytest.mark.parametrize("name", sorted(EXPECTED["fixtures"]))
def test_fixture_gives_the_expected_cards(evaluator: Evaluator, name: str) -> None:
    spec = EXPECTED["fixtures"][name]
    evaluation = _evaluate(evaluator, name)
    cards = evaluation.response.cards
    assert [c.source.topic.code for c in cards] == spec["cards"]
    if "indicator" in spec:
        assert cards[0].indicator == spec["indicator"]
    text = " ".join(f"{c.summary}\n{c.detail}\n{c.model_dump_json()}" for c in cards)
    for words in spec.get("contains", []):
        assert words in text, f"{name}: {words!r} not in the card"
    for words in spec.get("lacks", []):
        assert words.lower() not in text.lower(), f"{name}: {words!r} is in a card"
    set_aside = {item.reference for item in evaluation.facts.set_aside}
    for reference in spec.get("set_aside", []):
        assert reference in set_aside


@pytest.mark.parametrize("name", sorted(EXPECTED["fixtures"]))
def test_fixture_response_is_valid_cds_hooks(evaluator: Evaluator, name: str) -> None:
    assert_valid_cds_response(to_dict(_evaluate(evaluator, name).response))


def test_card_detail_names_rule_id_version_and_evidence(evaluator: Evaluator) -> None:
    card = _evaluate(evaluator, "benign-low-magnesium.json").response.cards[0]
    assert "Rule `spasm-benign-contributors` version 1.0.0" in (card.detail or "")
    assert "`Observation/mg-1` (2026-11-20)" in (card.detail or "")


def test_cli_evaluate_prints_the_same_cards_as_the_library() -> None:
    result = CliRunner().invoke(
        cli, ["evaluate", str(FIXTURES / "urgent-red-flag.json"), "--now", EXPECTED["now"]]
    )
    assert result.exit_code == 0, result.output
    assert '"indicator": "critical"' in result.output


def test_cli_explain_shows_facts_rules_and_set_aside() -> None:
    path = FIXTURES / "excluded-refuted-red-flag.json"
    result = CliRunner().invoke(cli, ["evaluate", "--explain", str(path), "--now", EXPECTED["now"]])
    assert result.exit_code == 0, result.output
    assert "Rules fired:" in result.output
    assert "spasm-benign-contributors" in result.output
    assert "Condition/weak-1" in result.output
    assert "verification status is refuted" in result.output
