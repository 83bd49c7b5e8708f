"""Rule-file problems that an informaticist can act on: file, line, rule id and field, all at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cds.errors import CdsError


def located(file: str, line: int | None, subject: str, field: str, message: str) -> str:
    """`file:line: subject: field: message`, the one shape every error about a file takes."""
    where = file if line is None else f"{file}:{line}"
    subject = f" {subject}:" if subject else ""
    field = f" {field}:" if field else ""
    return f"{where}:{subject}{field} {message}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a rules file or a rule test-case file, with its place."""

    file: str
    line: int | None
    subject: str | None
    """The rule id (or, with `of="case"`, the test case's name) the problem is in, if any."""
    field: str
    message: str
    of: Literal["rule", "case"] = "rule"

    def __str__(self) -> str:
        subject = (
            ""
            if not self.subject
            else f"rule {self.subject}"
            if self.of == "rule"
            else f"case {self.subject!r}"
        )
        return located(self.file, self.line, subject, self.field, self.message)


class RulebookError(CdsError):
    """Every problem found while loading, so one edit-check cycle fixes them all rather than one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
