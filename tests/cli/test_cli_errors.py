"""Every command meets errors the same way: rules that do not load exit 2, other mistakes are one line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cds.cli.main import cli
from cds.rulebook import DEFAULT_RULES_DIR

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "benign-low-magnesium.json"


@pytest.fixture
def broken_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    parameters = rules / "parameters.yaml"
    parameters.write_text(parameters.read_text().replace("magnesium_low_mg_dl:", "magnesium_low_mg_dl_x:", 1))
    return rules


def _commands(rules: Path, tmp_path: Path) -> dict[str, list[str]]:
    population = tmp_path / "population"
    population.mkdir()
    shutil.copy(FIXTURE, population)
    return {
        "evaluate": ["evaluate", str(FIXTURE), "--rules", str(rules)],
        "rules check": ["rules", "check", str(rules)],
        "rules list": ["rules", "list", str(rules)],
        "rules diff": ["rules", "diff", str(DEFAULT_RULES_DIR), str(rules)],
        "rules test": ["rules", "test", "--rules", str(rules)],
        "backtest": ["backtest", str(population), "--rules", str(rules), "--out", str(tmp_path / "report")],
        "backtest --baseline": [
            "backtest",
            str(population),
            "--baseline",
            str(rules),
            "--out",
            str(tmp_path),
        ],
    }


@pytest.mark.parametrize(
    "command",
    ["evaluate", "rules check", "rules list", "rules diff", "rules test", "backtest", "backtest --baseline"],
)
def test_rules_that_do_not_load_exit_2_with_every_problem(
    command: str, broken_rules: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, _commands(broken_rules, tmp_path)[command])
    assert result.exit_code == 2, result.output
    headline, *problems = result.output.splitlines()
    assert re.fullmatch(r"Error: the rules do not load \(\d+ problems?\):", headline)
    assert problems and any("magnesium_low_mg_dl" in line for line in problems)
    assert "Traceback" not in result.output


def test_unreadable_input_is_one_line_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", ')
    result = CliRunner().invoke(cli, ["evaluate", str(broken)])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"Error: {broken}:")
