"""The rules diff: what an informaticist's edit changed, each difference with its old and new value."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from rules_copy import copy_rules, edit, set_parameter

from cds.cli.main import cli
from cds.rulebook import Rulebook, load_rulebook
from cds.rulebook.diff import RulesDiff, describe, diff_rulebooks

WEAKNESS_CODE = (
    '      - {system: snomed, code: "26544005", display: "Muscle weakness", status: confirmed, source: IPS}\n'
)


@pytest.fixture(scope="module")
def shipped() -> Rulebook:
    return load_rulebook()


@pytest.fixture(scope="module")
def edited_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy with one edit of each kind: a threshold, a code, a rule's logic, a card, a removed rule."""
    rules = copy_rules(tmp_path_factory.mktemp("edited"))
    set_parameter(rules, "magnesium_low_mg_dl", "1.7", "1.5")
    set_parameter(rules, "contributor_indicator", "info", "warning")
    edit(rules / "valuesets" / "red_flags.yaml", WEAKNESS_CODE, "")
    red_flag = rules / "definitions" / "20-red-flag.yaml"
    edit(red_flag, "version: 1.0.0", "version: 1.1.0")
    edit(red_flag, "because:", "because: (edited)")
    (rules / "definitions" / "50-electrolyte-workup.yaml").unlink()
    return rules


@pytest.fixture(scope="module")
def edited(edited_dir: Path) -> Rulebook:
    return load_rulebook(edited_dir)


@pytest.fixture(scope="module")
def diff(shipped: Rulebook, edited: Rulebook) -> RulesDiff:
    return diff_rulebooks(shipped, edited)


def test_the_same_rules_have_no_difference(shipped: Rulebook) -> None:
    same = diff_rulebooks(shipped, shipped)
    assert same.identical
    assert (same.parameters, same.codes, same.rules, same.cards) == ((), (), (), ())
    assert "No difference" in describe(same)


def test_both_rules_versions_are_named(diff: RulesDiff, shipped: Rulebook, edited: Rulebook) -> None:
    assert diff.old_version == shipped.version
    assert diff.new_version == edited.version != shipped.version


def test_a_threshold_change_shows_old_and_new_value_with_unit_and_the_rules_using_it(diff: RulesDiff) -> None:
    change = next(p for p in diff.parameters if p.name == "magnesium_low_mg_dl")
    assert (change.old, change.new, change.old_unit, change.new_unit) == (1.7, 1.5, "mg/dL", "mg/dL")
    assert change.change == "changed"
    assert change.used_by == ("spasm-benign-contributors",)


def test_a_removed_code_names_its_concept_and_system(diff: RulesDiff) -> None:
    removed = [c for c in diff.codes if c.change == "removed"]
    assert [(c.concept, c.system, c.code) for c in removed] == [
        ("red_flag weakness", "http://snomed.info/sct", "26544005")
    ]
    assert removed[0].old is not None and removed[0].old.display == "Muscle weakness"


def test_an_rxnorm_code_of_an_ingredient_is_compared_like_any_code(tmp_path: Path, shipped: Rulebook) -> None:
    rules = copy_rules(tmp_path)
    edit(
        rules / "valuesets" / "medications.yaml",
        '{code: "313988", display: "Furosemide 40 MG Oral Tablet", status: confirmed}, ',
        "",
    )
    (change,) = diff_rulebooks(shipped, load_rulebook(rules)).codes
    assert (change.change, change.concept, change.code) == ("removed", "ingredient furosemide", "313988")
    assert change.system == "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert change.old is not None and change.old.display == "Furosemide 40 MG Oral Tablet"


def test_a_rule_whose_logic_changed_shows_both_versions_and_the_part(diff: RulesDiff) -> None:
    change = next(r for r in diff.rules if r.rule_id == "spasm-red-flag")
    assert (change.change, change.old_version, change.new_version) == ("changed", "1.0.0", "1.1.0")
    assert change.parts == ("when",)
    assert not change.version_not_bumped


def test_a_removed_rule_is_listed_with_its_old_version(diff: RulesDiff) -> None:
    change = next(r for r in diff.rules if r.rule_id == "spasm-electrolyte-workup")
    assert (change.change, change.old_version, change.new_version) == ("removed", "1.0.0", None)


def test_a_severity_set_by_parameter_shows_as_the_card_indicator_it_gives(diff: RulesDiff) -> None:
    cards = [(c.rule_id, c.field, c.old, c.new) for c in diff.cards]
    assert cards == [("spasm-benign-contributors", "indicator", "info", "warning")]


def test_a_changed_rule_under_the_same_version_is_flagged(shipped: Rulebook, tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    edit(rules / "definitions" / "40-benign-contributors.yaml", 'summary: "Likely', 'summary: "Probably')
    diff = diff_rulebooks(shipped, load_rulebook(rules))
    (change,) = diff.rules
    assert change.version_not_bumped and change.parts == ("card",)
    assert [c.field for c in diff.cards] == ["summary"]
    assert "version not bumped" in describe(diff)


def test_the_text_form_gives_each_change_old_to_new(diff: RulesDiff) -> None:
    text = describe(diff)
    assert "~ magnesium_low_mg_dl: 1.7 mg/dL -> 1.5 mg/dL (used by spasm-benign-contributors)" in text
    assert (
        '- red_flag weakness: http://snomed.info/sct 26544005 "Muscle weakness" [confirmed] -> (none)' in text
    )
    assert "~ spasm-red-flag 1.0.0 -> 1.1.0: when changed" in text
    assert "- spasm-electrolyte-workup 1.0.0 -> (none)" in text
    assert "spasm-benign-contributors card.indicator: 'info' -> 'warning'" in text


def test_cds_rules_diff_prints_the_diff_as_json(edited_dir: Path, shipped: Rulebook) -> None:
    result = CliRunner().invoke(cli, ["rules", "diff", str(shipped.directory), str(edited_dir), "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.output)
    assert data["old_version"] == shipped.version
    assert {"name": "magnesium_low_mg_dl", "change": "changed", "old": 1.7, "new": 1.5}.items() <= data[
        "parameters"
    ][0].items()
    assert {r["rule_id"]: r["change"] for r in data["rules"]} == {
        "spasm-red-flag": "changed",
        "spasm-electrolyte-workup": "removed",
    }


def test_cds_rules_diff_prints_the_text_form(edited_dir: Path, shipped: Rulebook) -> None:
    result = CliRunner().invoke(cli, ["rules", "diff", str(shipped.directory), str(edited_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Rules {shipped.version} ")
    assert "Parameters (2):" in result.output
