"""Release hygiene: the licence file is the licence declared, and the version has one home."""

from __future__ import annotations

import tomllib
from pathlib import Path

from click.testing import CliRunner

import cds
from cds.cli.main import cli

REPO = Path(__file__).resolve().parents[2]


def test_license_file_is_the_license_pyproject_declares() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = " ".join((REPO / "LICENSE").read_text().split())
    assert text.startswith("Apache License Version 2.0, January 2004")


def test_version_is_taken_from_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cds.__version__"}


def test_cds_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and cds.__version__ in result.output


def test_changelog_has_a_section_for_the_version() -> None:
    assert f"## [{cds.__version__}]" in (REPO / "CHANGELOG.md").read_text()
