"""The public API at `cds`: a short list, pinned, so that a change to it is a decision and not an accident."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

import cds
import cds.evaluation
from cds.errors import CdsError
from cds.testing import comparable_cards

REPO = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
RECORD = REPO / "fixtures" / "benign-low-magnesium.json"


def test_the_public_names_are_these() -> None:
    assert cds.__all__ == [
        "CdsError",
        "Evaluation",
        "Evaluator",
        "InputError",
        "ReadResult",
        "Rulebook",
        "RulebookError",
        "__version__",
        "evaluate",
        "load_rulebook",
        "read_input",
        "read_path",
    ]


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    namespace: dict[str, object] = {}
    exec("from cds import *", namespace)
    assert set(cds.__all__) <= set(namespace) and set(cds.__all__) <= set(dir(cds))


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(cds, "Evaluater")


def test_importing_cds_does_not_load_the_engine() -> None:
    code = "import sys, cds; cds.__version__; print(sorted(m for m in sys.modules if m.startswith('cds.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_evaluate_takes_a_path_as_text() -> None:
    cards = cds.evaluate(str(RECORD), now=NOW).response.cards
    assert [card.indicator for card in cards] == ["info"]


def _cards(source: cds.evaluation.Source) -> list[dict[str, object]]:
    return comparable_cards(cds.evaluate(source, now=NOW).response_json())


def test_evaluate_takes_a_parsed_bundle() -> None:
    assert _cards(json.loads(RECORD.read_text())) == _cards(RECORD)


def test_evaluate_takes_json_bytes() -> None:
    assert _cards(RECORD.read_bytes()) == _cards(RECORD)


def test_every_error_a_user_sees_is_a_cds_error() -> None:
    assert issubclass(cds.InputError, CdsError) and issubclass(cds.RulebookError, CdsError)
    assert issubclass(cds.InputError, ValueError)


def test_the_readme_library_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Library\n") :]
    example = section[section.index("```python\n") + len("```python\n") : section.index("```\n", 10)]
    monkeypatch.chdir(REPO)
    exec(compile(example, "README.md", "exec"), {})
    response, error = capsys.readouterr().out.splitlines()
    assert [card["indicator"] for card in json.loads(response)["cards"]] == ["info"]
    assert error.startswith("cannot tell which patient the input is about")
