"""The words the fact layer gives a card (pattern labels, a progressive red flag) are rules data
(`valuesets/wording.yaml`), checked when the rules load."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from rules_copy import copy_rules, edit, line_of, problems_of

from cds.evaluation import Evaluator
from cds.fhir import read_input, read_path
from cds.rulebook import load_rulebook

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return copy_rules(tmp_path)


def card_text(rules: Path, fixture: str) -> str:
    evaluation = Evaluator(load_rulebook(rules)).evaluate(read_path(FIXTURES / fixture), now=NOW)
    return "\n".join(f"{c.summary}\n{c.detail}" for c in evaluation.response.cards)


def test_a_progressive_red_flag_is_named_as_the_wording_file_says(rules: Path) -> None:
    assert "muscle weakness (progressive)" in card_text(rules, "red-flag-severity-rising.json")
    edit(rules / "valuesets" / "wording.yaml", '"{label} (progressive)"', '"{label}, worsening"')
    text = card_text(rules, "red-flag-severity-rising.json")
    assert "muscle weakness, worsening" in text and "(progressive)" not in text


def test_a_pattern_label_is_shown_as_the_wording_file_says(rules: Path) -> None:
    edit(
        rules / "valuesets" / "wording.yaml",
        "widespread_fasciculation: widespread",
        "widespread_fasciculation: in several regions",
    )
    assert "in several regions" in card_text(rules, "widespread-fasciculation.json")


def test_red_flags_to_watch_end_with_the_listed_words(rules: Path) -> None:
    edit(rules / "valuesets" / "wording.yaml", "[progressive loss of function]", "[new falls]")
    text = card_text(rules, "benign-low-magnesium.json")
    assert "new falls" in text and "progressive loss of function" not in text


def test_a_progressive_wording_without_the_label_is_refused(rules: Path) -> None:
    path = rules / "valuesets" / "wording.yaml"
    edit(path, '"{label} (progressive)"', '"(progressive)"')
    [problem] = problems_of(rules)
    assert problem.startswith(
        f"rules/valuesets/wording.yaml:{line_of(path, '(progressive)')}: progressive_red_flag:"
    )
    assert "must name the red flag once as {label}" in problem


def test_a_pattern_without_a_label_is_named(rules: Path) -> None:
    path = rules / "valuesets" / "wording.yaml"
    edit(path, "  persistent: persistent\n", "")
    [problem] = problems_of(rules)
    assert (
        "rules/valuesets/wording.yaml" in problem
        and "patterns" in problem
        and "missing persistent" in problem
    )


def test_a_pattern_label_longer_than_a_summary_allows_is_refused(rules: Path) -> None:
    edit(
        rules / "valuesets" / "wording.yaml",
        "persistent: persistent",
        "persistent: " + "very " * 30 + "persistent",
    )
    assert any("must stay under 140" in p and "{patterns} alone can be" in p for p in problems_of(rules))


def test_a_worsening_severity_is_said_out_of_the_levels_the_rules_have(rules: Path) -> None:
    assert "severity rose from 1 to 3 (of 3)" in card_text(rules, "worsening.json")
    edit(
        rules / "valuesets" / "severity.yaml",
        "  severe:\n    rank: 3\n",
        "  extreme:\n    rank: 4\n    words: [extreme]\n    codes: []\n  severe:\n    rank: 3\n",
    )
    assert "severity rose from 1 to 3 (of 4)" in card_text(rules, "worsening.json")


def test_a_site_left_out_of_widespread_is_explained_by_its_note(rules: Path) -> None:
    sites = [{"text": "left eyelid"}, {"text": "right forearm"}, {"text": "left calf"}]
    fasciculation = {
        "resourceType": "Condition",
        "id": "fasc",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "82470000"}]},
        "bodySite": sites,
        "subject": {"reference": "Patient/p"},
        "onsetDateTime": "2026-11-10",
    }
    edit(
        rules / "valuesets" / "body_sites.yaml",
        "facial and eyelid twitching is usually myokymia",
        "EYELID NOTE",
    )
    evaluation = Evaluator(load_rulebook(rules)).evaluate(read_input(orjson.dumps([fasciculation])), now=NOW)
    text = "\n".join(c.detail or "" for c in evaluation.response.cards)
    assert "fasciculations in 2 regions (cervical, lumbosacral); not counted: eyelid (EYELID NOTE" in text
