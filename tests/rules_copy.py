"""A copy of the shipped rules to edit, for tests of what an informaticist's edit does."""

from __future__ import annotations

import shutil
from pathlib import Path

from cds.rulebook import DEFAULT_RULES_DIR


def copy_rules(folder: Path) -> Path:
    target = folder / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replaces the first `old` in a file by `new`, failing when the file no longer holds `old`."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
