"""Without the workbench extra, its commands say in one line what to install, before doing any work."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cds.cli.main import cli

ONE_LINE = (
    "Error: tqdm not installed: this command needs the workbench extra (pip install 'spasm-cds[workbench]')"
)


@pytest.fixture
def without_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # what an install without the extra finds


def _error_lines(args: list[str]) -> list[str]:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    return result.output.strip().splitlines()


@pytest.mark.usefixtures("without_tqdm")
def test_backtest_without_the_extra_names_it_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "report"
    lines = _error_lines(["backtest", str(tmp_path), "--out", str(out)])
    assert lines == [ONE_LINE]
    assert not out.exists()


@pytest.mark.usefixtures("without_tqdm")
def test_population_make_without_the_extra_names_it_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "population"
    lines = _error_lines(["population", "make", "--patients", "1", "--out", str(out)])
    assert lines == [ONE_LINE]
    assert not out.exists()
