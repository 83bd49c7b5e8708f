"""Rule-file problems that an informaticist can act on: file, line, rule id and field, all at once."""

from __future__ import annotations

from dataclasses import dataclass

from cds.errors import CdsError


def located(file: str, line: int | None, subject: str, field: str, message: str) -> str:
    """`file:line: subject: field: message`, the one shape every error about a file takes."""
    where = file if line is None else f"{file}:{line}"
    subject = f" {subject}:" if subject else ""
    field = f" {field}:" if field else ""
    return f"{where}:{subject}{field} {message}"


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    rule_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        return located(
            self.file, self.line, f"rule {self.rule_id}" if self.rule_id else "", self.field, self.message
        )


class RulebookError(CdsError):
    """Every problem found while loading, so one edit-check cycle fixes them all rather than one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
