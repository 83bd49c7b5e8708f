"""`cds rules test`: a report on stdout and an exit status CI can act on."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cds.cli.main import cli
from cds.rulebook import DEFAULT_RULES_DIR

PASSING = (
    "name: a cramp alone\nnow: 2026-11-25\nrecord: [cramp]\nexpect: {cards: [spasm-electrolyte-workup]}\n"
)
FAILING = "name: wrong on purpose\nnow: 2026-11-25\nrecord: [cramp]\nexpect: {cards: []}\n"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["rules", "test", *args])
    return result.exit_code, result.output


def test_exit_status_is_zero_when_every_case_passes(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(PASSING)
    code, output = _run(str(tmp_path))
    assert code == 0 and "PASS  a cramp alone" in output


def test_exit_status_is_one_when_a_case_fails(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(PASSING)
    (tmp_path / "wrong.yaml").write_text(FAILING)
    code, output = _run(str(tmp_path))
    assert code == 1 and "FAIL  wrong on purpose" in output and "2 cases: 1 passed, 1 failed" in output


def test_exit_status_is_one_when_a_case_file_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(PASSING)
    (tmp_path / "bad.yaml").write_text("name: bad\nrecord: [crmap]\nexpect: {cards: []}\n")
    code, output = _run(str(tmp_path))
    assert code == 1 and "bad.yaml:2: case 'bad': record[0]" in output


def test_exit_status_is_two_when_the_rules_do_not_load(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "parameters.yaml").write_text("parameters: {}\n")
    code, _ = _run("--rules", str(rules))
    assert code == 2


def test_the_default_cases_are_the_tests_folder_of_the_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules, ignore=shutil.ignore_patterns("tests"))
    (rules / "tests").mkdir()
    (rules / "tests" / "ok.yaml").write_text(PASSING)
    code, output = _run("--rules", str(rules))
    assert code == 0 and "1 cases: 1 passed, 0 failed" in output


def test_k_runs_only_the_cases_whose_name_matches(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(PASSING)
    (tmp_path / "wrong.yaml").write_text(FAILING)
    code, output = _run(str(tmp_path), "-k", "CRAMP ALONE")
    assert code == 0 and "wrong on purpose" not in output
