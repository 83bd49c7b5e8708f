"""`cds backtest` with a scheduler it cannot use: one line, and no report folder half written."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cds.cli.main import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def population(tmp_path: Path) -> Path:
    folder = tmp_path / "population"
    folder.mkdir()
    for name in ("benign-low-magnesium.json", "urgent-red-flag.json"):
        shutil.copy(FIXTURES / name, folder)
    return folder


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _backtest(population: Path, out: Path, scheduler: str) -> Result:
    return CliRunner().invoke(cli, ["backtest", str(population), "--scheduler", scheduler, "--out", str(out)])


def test_a_scheduler_with_nothing_listening_is_one_line_and_no_report(
    population: Path, tmp_path: Path
) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = _backtest(population, tmp_path / "report", address)
    assert result.exit_code == 1
    assert result.output == f"Error: the Dask scheduler '{address}' cannot be reached (Connection refused)\n"
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("address", ["tcp//scheduler", "tcp://127.0.0.1:port"])
def test_a_malformed_scheduler_address_is_one_line_and_no_report(
    population: Path, tmp_path: Path, address: str
) -> None:
    result = _backtest(population, tmp_path / "report", address)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: the Dask scheduler '{address}' is not an address such as tcp://")
    assert len(result.output.splitlines()) == 1
    assert not (tmp_path / "report").exists()


def test_a_failed_run_leaves_an_earlier_report_as_it_was(population: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.json").write_text('{"earlier": true}')
    _backtest(population, out, f"tcp://127.0.0.1:{_free_port()}")
    assert [p.name for p in out.iterdir()] == ["report.json"]
    assert (out / "report.json").read_text() == '{"earlier": true}'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_local_run_writes_the_whole_report(population: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        cli, ["backtest", str(population), "--workers", "1", "--out", str(out), "--now", "2026-11-25"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["card-rates.png", "report.html", "report.json"]
