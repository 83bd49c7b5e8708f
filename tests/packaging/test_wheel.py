"""The wheel, installed in a fresh environment, works from a folder that is not the checkout.

The wheel is built as `pip wheel .` builds it and installed without dependencies; those come from this
test's own environment through a .pth file, which adds its site-packages but not the editable install
of the checkout (nested .pth files are not processed), so every `cds` file used is the wheel's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import cds

REPO = Path(__file__).resolve().parents[2]
NOT_SOURCE = (".*", "build", "*.egg-info", "__pycache__", "var", "bench-results", "backtest-report", "*.so")
"""Left out of the copy built from, as from a fresh clone: a stale build/ or an editable install's
compiled module would hide a missing file or a broken build."""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "spasm-cds"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("spasm_cds-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _cds(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "cds"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_wheel_holds_the_default_rules(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "cds/rules/parameters.yaml" in names
    assert "cds/rules/definitions/10-urgent-red-flag.yaml" in names
    assert any(name.startswith("cds/rules/tests/") for name in names)
    assert "cds/rules/populations/scenarios.yaml" in names


def test_the_wheel_holds_the_license(wheel: Path) -> None:
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in zipfile.ZipFile(wheel).namelist())


def test_the_wheel_holds_the_compiled_nesting_check_and_its_stub(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "cds/fhir/_nesting" + sysconfig.get_config_var("EXT_SUFFIX") in names
    assert "cds/fhir/_nesting.pyi" in names


def test_the_installed_nesting_check_is_the_wheels_compiled_module(venv: Path, tmp_path: Path) -> None:
    program = (
        "from cds.fhir import _nesting; from cds.fhir.jsonparse import exceeds_depth, MAX_DEPTH; "
        "print(_nesting.__file__, exceeds_depth(b'[' * MAX_DEPTH + b']' * MAX_DEPTH), "
        "exceeds_depth(b'[' * (MAX_DEPTH + 1) + b']' * (MAX_DEPTH + 1)))"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", program],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    where, at_the_limit, beyond = result.stdout.split()
    assert Path(where).is_relative_to(venv) and where.endswith(sysconfig.get_config_var("EXT_SUFFIX"))
    assert (at_the_limit, beyond) == ("False", "True")


def test_the_installed_package_is_the_wheel_not_the_checkout(venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import cds; print(cds.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv)


def test_rules_list_works_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    result = _cds(venv, tmp_path, "rules", "list")
    assert result.returncode == 0, result.stderr
    assert "spasm-urgent-red-flag" in result.stdout


def test_evaluate_works_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    record = REPO / "fixtures" / "benign-low-magnesium.json"
    result = _cds(venv, tmp_path, "evaluate", str(record), "--now", "2026-11-25")
    assert result.returncode == 0, result.stderr
    cards = json.loads(result.stdout)["cards"]
    assert [card["indicator"] for card in cards] == ["info"]


def test_version_is_the_package_version(venv: Path, tmp_path: Path) -> None:
    result = _cds(venv, tmp_path, "--version")
    assert result.returncode == 0 and cds.__version__ in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("population", "make", "--patients", "1", "--out", "population"),
        ("bench", "--quick", "--skip-http"),
    ],
)
def test_synthea_default_is_beside_the_working_folder_not_in_site_packages(
    venv: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = _cds(venv, tmp_path, *command)
    assert result.returncode != 0
    assert "../shared/data/synthea-r4: no such folder" in result.stderr
    assert "site-packages" not in result.stderr


def test_the_readme_qa_example_runs_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    qa = readme[readme.index("## QA kit") :]
    example = qa[qa.index("```python\n# test_my_properties.py") + len("```python\n") :]
    (tmp_path / "test_my_properties.py").write_text(example[: example.index("```")])
    (tmp_path / "conftest.py").write_text(
        "from hypothesis import settings\n\nfrom cds.testing.profiles import load_profile\n\n"
        "load_profile()\nsettings.register_profile('wheel', settings.default, max_examples=5)\n"
        "settings.load_profile('wheel')\n"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
