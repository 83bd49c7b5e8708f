"""Rule test cases may name parameters (`just below $magnesium_low_mg_dl`): the cases that test a rule's
logic survive a threshold change, and a failure names the parameter it depends on with its value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rules_copy import copy_rules, set_parameter

from cds.evaluation import Evaluator
from cds.rulebook import Rulebook, load_rulebook
from cds.workbench.cases import Case, CaseSuite, load_cases
from cds.workbench.phrases import RecordItem
from cds.workbench.runner import CaseResult, run_cases

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
PINNED = "magnesium 1.6 mg/dL is low under the default threshold of 1.7"


def _load(tmp_path: Path, text: str, rulebook: Rulebook) -> CaseSuite:
    folder = tmp_path / "cases"
    folder.mkdir(exist_ok=True)
    (folder / "case.yaml").write_text(text)
    return load_cases(folder, rulebook, now=NOW)


def _case(tmp_path: Path, rulebook: Rulebook, *lines: str, expect: str = "{top: info}") -> Case:
    record = "".join(f"  - {line}\n" for line in lines)
    suite = _load(tmp_path, f"name: one\nrecord:\n{record}expect: {expect}\n", rulebook)
    assert not suite.problems, [str(p) for p in suite.problems]
    return suite.cases[0]


def _item(case: Case, index: int = 0) -> RecordItem:
    item = case.record[index]
    assert isinstance(item, RecordItem)
    return item


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("magnesium $magnesium_low_mg_dl 5 days ago", 1.7),
        ("magnesium $magnesium_low_mg_dl minus 0.1 mg/dL 5 days ago", 1.6),
        ("magnesium $magnesium_low_mg_dl plus 0.25 mg/dL", 1.95),
        ("magnesium just below $magnesium_low_mg_dl", 1.6),
        ("magnesium just above $magnesium_low_mg_dl 5 days ago", 1.8),
        ("ionized calcium just below $ionized_calcium_low_mmol_l", 1.11),
        ("GAD-7 score just below $gad7_anxiety_min 7 days ago", 9),
    ],
)
def test_a_value_may_be_a_parameter_reference(
    tmp_path: Path, rulebook: Rulebook, line: str, value: float
) -> None:
    item = _item(_case(tmp_path, rulebook, line))
    assert item.value == pytest.approx(value)


def test_a_reference_without_a_unit_takes_the_parameters_unit(tmp_path: Path, rulebook: Rulebook) -> None:
    assert _item(_case(tmp_path, rulebook, "magnesium just below $magnesium_low_mg_dl")).unit == "mg/dL"


def test_a_time_may_be_a_parameter_reference(tmp_path: Path, rulebook: Rulebook) -> None:
    case = _case(
        tmp_path,
        rulebook,
        "cramp, onset just above $persistent_after_weeks weeks ago",
        "potassium 4.0 mmol/L $lab_lookback_days plus 2 days ago",
    )
    assert (_item(case, 0).when.days_ago, _item(case, 1).when.days_ago) == (49, 32)


def test_a_reference_in_the_expected_words_is_the_value_as_a_card_prints_it(
    tmp_path: Path, rulebook: Rulebook
) -> None:
    expect = (
        '{card contains: ["below $magnesium_low_mg_dl mg/dL", "$progression_min_days plus 22 days after"]}'
    )
    case = _case(tmp_path, rulebook, "cramp", expect=expect)
    assert case.expect.card_contains == ["below 1.7 mg/dL", "50 days after"]


def test_an_unknown_parameter_names_file_line_field_and_the_known_ones(
    tmp_path: Path, rulebook: Rulebook
) -> None:
    text = "name: typo\nrecord:\n  - cramp\n  - magnesium just below $magnesium_low\nexpect: {cards: []}\n"
    [problem] = _load(tmp_path, text, rulebook).problems
    assert (problem.line, problem.field) == (4, "record[1]")
    assert "unknown parameter $magnesium_low (parameters: " in problem.message
    assert "magnesium_low_mg_dl" in problem.message and "potassium_low_mmol_l" in problem.message


def test_an_unknown_parameter_in_the_expected_words_is_a_problem(tmp_path: Path, rulebook: Rulebook) -> None:
    text = 'name: typo\nrecord: [cramp]\nexpect:\n  card contains: ["below $magnesium_low"]\n'
    [problem] = _load(tmp_path, text, rulebook).problems
    assert (problem.line, problem.field) == (4, "expect.card contains.0")
    assert "unknown parameter $magnesium_low" in problem.message


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "magnesium $magnesium_low_mg_dl mmol/L",
            "$magnesium_low_mg_dl is in mg/dL; the line writes 'mmol/L'",
        ),
        (
            "cramp, onset $persistent_after_weeks days ago",
            "$persistent_after_weeks is in wk, not a number of days",
        ),
        ("magnesium $lab_lookback_days", "$lab_lookback_days is a time in d"),
        ("magnesium just below $magnesium_low_mg_dl minus 0.1", "not both"),
    ],
)
def test_a_reference_in_the_wrong_unit_is_refused(
    tmp_path: Path, rulebook: Rulebook, line: str, message: str
) -> None:
    text = f"name: units\nrecord:\n  - {line}\nexpect: {{cards: []}}\n"
    [problem] = _load(tmp_path, text, rulebook).problems
    assert problem.field == "record[0]" and message in problem.message


def _results(rules: Path) -> dict[str, CaseResult]:
    rulebook = load_rulebook(rules)
    suite = load_cases(rules / "tests", rulebook, now=NOW)
    assert not suite.problems, [str(p) for p in suite.problems]
    return {result.case.name: result for result in run_cases(suite.cases, Evaluator(rulebook))}


def test_a_threshold_change_breaks_only_the_case_that_pins_the_number(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    set_parameter(rules, "magnesium_low_mg_dl", "1.7", "1.5")
    results = _results(rules)
    assert [name for name, result in results.items() if not result.passed] == [PINNED]
    for name in ("low magnesium explains a cramp", "magnesium just above its threshold is not low"):
        assert results[name].passed and results[name].case.depends_on
    said = str(results[PINNED].mismatches[0])
    assert (
        "depends on magnesium_low_mg_dl = 1.5 mg/dL, compared with the literal 'magnesium 1.6 mg/dL'" in said
    )


def test_a_failing_case_names_the_parameter_it_references_and_its_value(
    tmp_path: Path, rulebook: Rulebook
) -> None:
    case = _case(
        tmp_path,
        rulebook,
        "cramp, onset 10 days ago",
        "magnesium just above $magnesium_low_mg_dl",
        expect="{cards: [spasm-benign-contributors]}",
    )
    [result] = run_cases([case], Evaluator(rulebook))
    [mismatch] = result.mismatches
    assert "depends on magnesium_low_mg_dl = 1.7 mg/dL ('just above $magnesium_low_mg_dl' is 1.8)" in str(
        mismatch
    )
