"""A broken rule file gives a precise error: file, line, rule id, field and what was expected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rules_copy import copy_rules, edit, line_of, problems_of

from cds.rulebook import load_rulebook


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return copy_rules(tmp_path)


def test_shipped_rules_load() -> None:
    rulebook = load_rulebook()
    assert {r.id for r in rulebook.rules} >= {"spasm-urgent-red-flag", "spasm-benign-contributors"}
    assert re.fullmatch(r"[0-9a-f]{12}", rulebook.version)


def test_unknown_fact_kind_names_file_line_rule_and_field(rules: Path) -> None:
    path = rules / "definitions" / "20-red-flag.yaml"
    edit(
        path, "    - fact: red_flag\n      because: red flag", "    - fact: redflag\n      because: red flag"
    )
    [problem] = problems_of(rules)
    line = line_of(path, "fact: redflag")
    assert problem.startswith(
        f"rules/definitions/20-red-flag.yaml:{line}: rule spasm-red-flag: when.all.1.fact:"
    )
    assert "unknown fact kind 'redflag'" in problem and "red_flag" in problem


def test_missing_parameter_is_named(rules: Path) -> None:
    edit(rules / "parameters.yaml", "  magnesium_low_mg_dl:", "  magnesium_floor_mg_dl:")
    found = problems_of(rules)
    assert any(
        "rules/definitions/40-benign-contributors.yaml" in p
        and "rule spasm-benign-contributors" in p
        and "unknown parameter $magnesium_low_mg_dl" in p
        for p in found
    ), found


def test_bad_code_system_is_named(rules: Path) -> None:
    path = rules / "valuesets" / "red_flags.yaml"
    edit(path, '{system: snomed, code: "8011004"', '{system: snowmed, code: "8011004"')
    [problem] = problems_of(rules)
    assert f"rules/valuesets/red_flags.yaml:{line_of(path, 'snowmed')}:" in problem
    assert "concepts.speech_difficulty.codes.0.system" in problem
    assert "unknown code system 'snowmed'" in problem


def test_summary_that_can_exceed_140_characters_is_refused(rules: Path) -> None:
    path = rules / "definitions" / "10-urgent-red-flag.yaml"
    edit(
        path,
        'summary: "Urgent neurology evaluation: {symptom} with {red_flags_brief}"',
        'summary: "Urgent neurology evaluation today please: {symptoms} together with {red_flags}"',
    )
    [problem] = problems_of(rules)
    assert "rule spasm-urgent-red-flag: card.summary:" in problem
    assert "can reach" in problem and "under 140" in problem


def test_duplicate_rule_id_names_both_files(rules: Path) -> None:
    edit(
        rules / "definitions" / "30-concerning-pattern.yaml",
        "id: spasm-concerning-pattern",
        "id: spasm-red-flag",
    )
    [problem] = problems_of(rules)
    assert problem.startswith("rules/definitions/30-concerning-pattern.yaml:1: rule spasm-red-flag: id:")
    assert "duplicate rule id (also in rules/definitions/20-red-flag.yaml)" in problem


def test_unknown_concept_lists_the_known_ones(rules: Path) -> None:
    edit(
        rules / "definitions" / "40-benign-contributors.yaml",
        "analyte: magnesium, lab_flag: none",
        "analyte: magnesum, lab_flag: none",
    )
    [problem] = problems_of(rules)
    assert "when.any.3.where.analyte" in problem
    assert "'magnesum' is not a known value" in problem and "magnesium" in problem


def test_unknown_placeholder_is_refused(rules: Path) -> None:
    edit(
        rules / "definitions" / "20-red-flag.yaml",
        "{symptom} with {red_flags_brief}",
        "{symptom} with {redflag}",
    )
    [problem] = problems_of(rules)
    assert "card.summary: unknown placeholder {redflag}" in problem


def test_yaml_syntax_error_names_the_line(rules: Path) -> None:
    path = rules / "definitions" / "30-concerning-pattern.yaml"
    edit(path, "title: Persistent", "title: [Persistent")
    [problem] = problems_of(rules)
    assert problem.startswith("rules/definitions/30-concerning-pattern.yaml:")
    assert "not valid YAML" in problem


def test_missing_card_field_is_named(rules: Path) -> None:
    edit(rules / "definitions" / "50-electrolyte-workup.yaml", "  indicator: $workup_indicator\n", "")
    [problem] = problems_of(rules)
    assert "rule spasm-electrolyte-workup: card.indicator: Field required" in problem


def test_parameter_the_fact_layer_needs_is_required(rules: Path) -> None:
    edit(rules / "parameters.yaml", "  persistent_after_weeks:", "  persistent_weeks:")
    found = problems_of(rules)
    assert any("parameter persistent_after_weeks is required by the fact layer" in p for p in found)


def test_unless_fired_cycle_is_refused(rules: Path) -> None:
    edit(
        rules / "definitions" / "40-benign-contributors.yaml",
        "unless_fired: [spasm-urgent-red-flag, spasm-red-flag]",
        "unless_fired: [spasm-electrolyte-workup]",
    )
    found = problems_of(rules)
    assert any("unless_fired forms a cycle" in p for p in found)


def test_every_problem_is_reported_at_once(rules: Path) -> None:
    edit(
        rules / "definitions" / "20-red-flag.yaml",
        "{symptom} with {red_flags_brief}",
        "{symptom} with {redflag}",
    )
    edit(
        rules / "definitions" / "30-concerning-pattern.yaml",
        "where: {concept: persistent}",
        "where: {concept: lasting}",
    )
    assert len(problems_of(rules)) == 2


def test_threshold_change_is_a_one_line_edit(rules: Path) -> None:
    edit(rules / "parameters.yaml", "    value: 1.7\n", "    value: 1.2\n")
    rulebook = load_rulebook(rules)
    assert rulebook.value("magnesium_low_mg_dl") == 1.2


def test_an_alias_given_to_two_systems_is_named_with_its_file(rules: Path) -> None:
    path = rules / "terminology" / "systems.yaml"
    edit(path, 'aliases: ["urn:oid:2.16.840.1.113883.6.1"]', 'aliases: ["urn:oid:2.16.840.1.113883.6.96"]')
    [problem] = problems_of(rules)
    assert problem.startswith("rules/terminology/systems.yaml:")
    assert "'urn:oid:2.16.840.1.113883.6.96' is listed for both snomed and loinc" in problem


def test_a_rules_directory_without_code_systems_is_refused(rules: Path) -> None:
    (rules / "terminology" / "systems.yaml").unlink()
    assert problems_of(rules) == ["rules/terminology/systems.yaml: required file is missing"]
