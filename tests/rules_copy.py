"""A copy of the shipped rules to edit, for tests of what an informaticist's edit does and says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cds.rulebook import DEFAULT_RULES_DIR, RulebookError, load_rulebook


def copy_rules(folder: Path) -> Path:
    target = folder / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replaces the first `old` in a file by `new`, failing when the file no longer holds `old`."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def set_parameter(rules: Path, name: str, old: str, new: str) -> None:
    """Changes a parameter's value in `parameters.yaml`, failing when it is no longer `old`."""
    edit(rules / "parameters.yaml", f"  {name}:\n    value: {old}\n", f"  {name}:\n    value: {new}\n")


def problems_of(rules: Path) -> list[str]:
    """The rulebook's load problems, as the user reads them; fails when the rules load."""
    with pytest.raises(RulebookError) as caught:
        load_rulebook(rules)
    return [str(p) for p in caught.value.problems]


def line_of(path: Path, words: str) -> int:
    """The first line (from 1) of a file that holds `words`, for checking the line an error names."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if words in line)
