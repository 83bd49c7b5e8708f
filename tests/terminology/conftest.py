"""A copy of the shipped rules to edit, for tests of what an informaticist's edit does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rules_copy import copy_rules
from rules_copy import edit as edit_file


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return copy_rules(tmp_path)


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    return edit_file
