"""A copy of the shipped rules to edit, for tests of what an informaticist's edit does."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cds.rulebook import DEFAULT_RULES_DIR


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replaces the first `old` in a file by `new`, failing when the file no longer holds `old`."""
    return _edit
