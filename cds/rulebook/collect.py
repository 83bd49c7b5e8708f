"""Reading rule files while collecting every problem, so one check shows them all, each with its line."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cds.fielderrors import dotted, field_errors
from cds.rulebook.problems import Problem
from cds.rulebook.yamlsource import YamlDocument, YamlSyntaxError, read_yaml

M = TypeVar("M", bound=BaseModel)


class Collector:
    """Every problem of a rules directory, with file and line, and the digest of what was read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.digest = hashlib.sha256()
        self.files: list[str] = []
        self.context: dict[str, object] = {}

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def _within_rules(self, path: Path) -> str:
        """What the version hashes besides content: the place inside the rules, never the folder's name,
        so a copy of the rules (a back-test) has the version the same rules have live."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    def read(self, path: Path) -> YamlDocument | None:
        display = self.name(path)
        try:
            self.digest.update(self._within_rules(path).encode() + b"\0" + path.read_bytes() + b"\0")
            doc = read_yaml(path, display)
        except (YamlSyntaxError, OSError) as exc:
            line = exc.line if isinstance(exc, YamlSyntaxError) else None
            self.problems.append(Problem(display, line, None, "", str(exc)))
            return None
        self.files.append(display)
        if not isinstance(doc.data, dict):
            self.problems.append(Problem(display, 1, None, "", "expected a mapping at the top of the file"))
            return None
        return doc

    def read_required(self, path: Path) -> YamlDocument | None:
        if not path.is_file():
            self.problems.append(Problem(self.name(path), None, None, "", "required file is missing"))
            return None
        return self.read(path)

    def validate(self, doc: YamlDocument, model: type[M], rule_id: str | None = None) -> M | None:
        try:
            return model.model_validate(doc.data, context=self.context)
        except ValidationError as exc:
            for error in field_errors(exc):
                line = doc.line_of(error.loc)
                self.problems.append(
                    Problem(doc.display_name, line, rule_id, dotted(error.loc), error.message)
                )
            return None

    def add(self, doc: YamlDocument, loc: tuple[str | int, ...], rule_id: str | None, message: str) -> None:
        field = ".".join(str(p) for p in loc)
        self.problems.append(Problem(doc.display_name, doc.line_of(loc), rule_id, field, message))
