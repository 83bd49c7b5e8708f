"""The rule-test report: a line per case, and for a failure the difference and the explanation."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from cds.explain import explain
from cds.rulebook.model import Rulebook
from cds.rulebook.problems import Problem
from cds.workbench.runner import CaseResult


def case_report(
    results: Sequence[CaseResult],
    problems: Sequence[Problem],
    rulebook: Rulebook,
    *,
    source: str,
    explain_all: bool = False,
) -> str:
    lines = [f"Rule tests from {source} against rules version {rulebook.version} ({rulebook.directory})"]
    current_file = None
    for result in results:
        case = result.case
        if case.file != current_file:
            current_file = case.file
            lines += ["", case.file]
        lines.append(f"  {'PASS' if result.passed else 'FAIL'}  {case.name}")
        if not result.passed:
            lines.append(f"        at {case.where}")
        if result.error:
            lines.append(f"        {result.error}")
        lines += [f"        {mismatch}" for mismatch in result.mismatches]
        if result.evaluation is not None and (explain_all or not result.passed):
            lines += ["        Explanation:", textwrap.indent(explain(result.evaluation), " " * 10)]
    if problems:
        lines += ["", f"Case files with problems ({len(problems)}), not run:"]
        lines += [f"  {problem}" for problem in problems]
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed
    summary = f"{len(results)} cases: {passed} passed, {failed} failed"
    if problems:
        summary += f"; {len(problems)} problem(s) in the case files"
    lines += ["", summary]
    return "\n".join(lines)
