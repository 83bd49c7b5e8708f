"""`cds bench --quick --skip-http`: runs in seconds and writes the figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cds.cli.main import cli


def test_quick_in_process_run_writes_the_figures(tmp_path: Path, synthea: Path) -> None:
    result = CliRunner().invoke(
        cli, ["bench", "--quick", "--skip-http", "--data", str(synthea), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "bench.json").read_text())
    assert {"date", "machine", "settings", "inprocess", "http", "starts", "memory", "targets"} <= set(figures)
    assert figures["machine"]["cores"] >= 1
    assert {"durable-rules", "fhir.resources", "uvicorn"} <= set(figures["machine"]["versions"])
    assert [f["resources"] for f in figures["inprocess"]] == [10, 100]
    assert {"evaluate", "json_loads", "orjson_loads", "ratio_to_json"} <= set(figures["inprocess"][0])


def test_quick_run_prints_one_table(tmp_path: Path, synthea: Path) -> None:
    result = CliRunner().invoke(
        cli, ["bench", "--quick", "--skip-http", "--data", str(synthea), "--out", str(tmp_path)]
    )
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith("| figure |")
    assert sum(1 for line in table if line.startswith("|---")) == 1
    assert any("in process: evaluate | 100" in line for line in table)


def test_a_missing_data_folder_is_named_in_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(cli, ["bench", "--quick", "--skip-http", "--data", str(missing)])
    assert result.exit_code != 0
    assert f"{missing}: no such folder" in result.output
