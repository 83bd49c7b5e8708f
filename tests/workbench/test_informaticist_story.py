"""The story of docs/workbench.md: change the magnesium threshold in a copy of the rules, see the rule tests
notice, and see in a back-test which patients' cards change and how many."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cds.cli.main import cli
from cds.rulebook import DEFAULT_RULES_DIR


@pytest.fixture
def lowered_threshold(tmp_path: Path) -> Path:
    rules = tmp_path / "my-rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    parameters = rules / "parameters.yaml"
    text = parameters.read_text()
    edited = re.sub(r"(magnesium_low_mg_dl:\n    value:) 1\.7\n", r"\1 1.5\n", text)
    assert edited != text
    parameters.write_text(edited)
    return rules


def test_the_rule_tests_catch_the_changed_threshold(lowered_threshold: Path) -> None:
    result = CliRunner().invoke(cli, ["rules", "test", "--rules", str(lowered_threshold)])
    assert result.exit_code == 1
    assert "FAIL  magnesium 1.6 mg/dL is low under the default threshold of 1.7" in result.output
    assert (
        "spasm-benign-contributors v1.0.0"
        not in result.output.split("FAIL  magnesium 1.6")[1].split("PASS")[0]
    )


@pytest.mark.slow
def test_the_backtest_lists_every_patient_whose_cards_change(
    lowered_threshold: Path, population: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    args = [
        "backtest",
        str(population),
        "--rules",
        str(lowered_threshold),
        "--baseline",
        str(DEFAULT_RULES_DIR),
    ]
    result = CliRunner().invoke(cli, [*args, "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    changes = json.loads((out / "report.json").read_text())["changes"]
    with (out / "changes.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert 0 < changes["patients_changed"] == len(rows)
    assert [r["patient_id"] for r in rows] == sorted(r["patient_id"] for r in rows)
    assert all(r["source"].startswith("Patient.ndjson:") for r in rows)
    assert all(
        re.search(r"magnesium 1\.[56] mg/dL on \S+, now (above|at) the threshold 1\.5", r["why"])
        for r in rows
    )
    assert changes["transitions"] == {"info -> none": len(rows)}
    assert {(r["before_cards"], r["after_cards"]) for r in rows} == {("spasm-benign-contributors", "")}
    assert min(r["patient_id"] for r in rows) in result.output
    assert f"Patients whose cards changed: {len(rows)}" in result.output


@pytest.mark.slow
def test_the_backtest_draws_a_self_contained_page(population: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["backtest", str(population), "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert "data:image/png;base64,iVBORw0KGgo" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert (out / "card-rates.png").read_bytes().startswith(b"\x89PNG")
    assert not (out / "changes.csv").exists()
