"""Rule files are parsed once each, into the same data `yaml.load` gives, with the lines errors name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cds.rulebook import load_rulebook, yamlsource
from cds.rulebook.yamlsource import read_yaml

RULES = Path(__file__).resolve().parents[2] / "rules"
YAML_FILES = sorted(RULES.glob("**/*.yaml"))


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(RULES)))
def test_a_file_reads_as_the_data_yaml_load_gives(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert read_yaml(path, path.name).data == yaml.load(text, Loader=yamlsource._LOADER)


def test_lines_are_those_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text("id: x\nwhen:\n  all:\n    - fact: symptom\n      because: a\n", encoding="utf-8")
    doc = read_yaml(path, "rule.yaml")
    assert doc.line_of(("when", "all", 0, "because")) == 5
    assert doc.line_of(("when", "all", 0, "because", "deeper")) == 5


def test_an_empty_file_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert read_yaml(path, "empty.yaml").data is None


def test_loading_the_rulebook_parses_each_of_its_files_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []

    class CountingLoader(yamlsource._LOADER):  # type: ignore[misc,valid-type]
        def __init__(self, stream: Any) -> None:
            parsed.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(yamlsource, "_LOADER", CountingLoader)
    load_rulebook()
    assert parsed
    assert len(parsed) == len(set(parsed))
