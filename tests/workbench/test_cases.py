"""Case files load into cases, or into problems naming file, line, case and what was expected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cds.rulebook import Rulebook
from cds.workbench.cases import CaseSuite, load_cases

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _load(tmp_path: Path, text: str, rulebook: Rulebook) -> CaseSuite:
    (tmp_path / "case.yaml").write_text(text)
    return load_cases(tmp_path, rulebook, now=NOW)


def test_a_file_may_hold_a_single_case(tmp_path: Path, rulebook: Rulebook) -> None:
    suite = _load(tmp_path, "name: one\nrecord: [cramp]\nexpect: {top: info}\n", rulebook)
    assert [case.name for case in suite.cases] == ["one"] and not suite.problems


def test_a_suite_gives_its_now_and_patient_to_every_case(tmp_path: Path, rulebook: Rulebook) -> None:
    text = """
now: 2026-11-25
patient: {id: p-1, gender: male}
cases:
  - name: first
    expect: {cards: []}
  - name: second
    now: 2026-12-01T08:00:00Z
    expect: {cards: []}
"""
    suite = _load(tmp_path, text, rulebook)
    assert [c.now.isoformat() for c in suite.cases] == [
        "2026-11-25T00:00:00+00:00",
        "2026-12-01T08:00:00+00:00",
    ]
    assert {c.patient.id for c in suite.cases} == {"p-1"}


def test_a_case_without_now_runs_at_the_given_default(tmp_path: Path, rulebook: Rulebook) -> None:
    suite = _load(tmp_path, "name: one\nexpect: {cards: []}\n", rulebook)
    assert suite.cases[0].now == NOW


def test_a_bad_phrase_names_file_line_case_and_phrase(tmp_path: Path, rulebook: Rulebook) -> None:
    text = "name: typo\nrecord:\n  - cramp\n  - magnesum 1.3 mg/dL\nexpect: {cards: []}\n"
    problem = str(_load(tmp_path, text, rulebook).problems[0])
    assert problem.startswith(f"{tmp_path / 'case.yaml'}:4: case 'typo': record[1]: 'magnesum 1.3 mg/dL'")
    assert "did you mean 'magnesium'" in problem


def test_an_unknown_rule_id_in_an_expectation_is_a_problem(tmp_path: Path, rulebook: Rulebook) -> None:
    text = "name: typo\nexpect:\n  not fired: [spasm-red-flags]\n"
    problem = _load(tmp_path, text, rulebook).problems[0]
    assert (problem.line, problem.field) == (3, "expect.not fired.0")
    assert "unknown rule id 'spasm-red-flags'" in problem.message and "spasm-red-flag," in problem.message


def test_an_unknown_expectation_lists_the_known_ones(tmp_path: Path, rulebook: Rulebook) -> None:
    problem = _load(tmp_path, "name: x\nexpect:\n  cards fired: []\n", rulebook).problems[0]
    assert problem.line == 3 and "expect knows: cards, top, fired, not fired" in problem.message


def test_an_expectation_that_says_nothing_is_refused(tmp_path: Path, rulebook: Rulebook) -> None:
    problem = _load(tmp_path, "name: x\nrecord: [cramp]\nexpect: {}\n", rulebook).problems[0]
    assert "could never fail" in problem.message


def test_a_raw_fhir_resource_may_stand_for_a_line(tmp_path: Path, rulebook: Rulebook) -> None:
    text = """
name: raw
record:
  - fhir: {resourceType: Observation, status: final, code: {text: x}}
expect: {cards: []}
"""
    record = _load(tmp_path, text, rulebook).cases[0].record
    assert record == ({"resourceType": "Observation", "status": "final", "code": {"text": "x"}},)


def test_yaml_that_does_not_parse_names_its_line(tmp_path: Path, rulebook: Rulebook) -> None:
    problem = _load(tmp_path, "name: x\nrecord: [cramp\nexpect: {}\n", rulebook).problems[0]
    assert problem.line is not None and "not valid YAML" in problem.message
