"""The rules version names the rules' content, wherever the folder holding them lives or is called."""

from __future__ import annotations

import shutil
from pathlib import Path

from cds.rulebook import DEFAULT_RULES_DIR, Rulebook, load_rulebook


def test_a_copy_of_the_rules_under_another_name_has_the_same_version(
    rulebook: Rulebook, tmp_path: Path
) -> None:
    copy = tmp_path / "backtest-copy"
    shutil.copytree(DEFAULT_RULES_DIR, copy)
    assert load_rulebook(copy).version == rulebook.version


def test_a_changed_threshold_is_a_new_version(rulebook: Rulebook, tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, copy)
    parameters = copy / "parameters.yaml"
    parameters.write_text(
        parameters.read_text(encoding="utf-8") + "\n# a comment is content too\n", encoding="utf-8"
    )
    assert load_rulebook(copy).version != rulebook.version
