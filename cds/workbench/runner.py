"""Runs test cases through the service's own path: FHIR bytes -> read_input -> Evaluator.evaluate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from cds.evaluation import Evaluation, Evaluator
from cds.fhir import InputError, read_input
from cds.workbench.builder import build_bundle
from cds.workbench.cases import Case
from cds.workbench.expect import Mismatch, Outcome, mismatches


@dataclass(frozen=True)
class CaseResult:
    case: Case
    mismatches: tuple[Mismatch, ...]
    evaluation: Evaluation | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None


def run_case(case: Case, evaluator: Evaluator) -> CaseResult:
    bundle = build_bundle(case.record, patient=case.patient, now=case.now)
    try:
        read = read_input(orjson.dumps(bundle))
        evaluation = evaluator.evaluate(read, patient_id=case.patient.id, now=case.now)
    except InputError as exc:
        return CaseResult(case, (), None, f"the record could not be read: {exc}")
    return CaseResult(
        case, tuple(mismatches(case.expect, Outcome.of(evaluation), case.depends_on)), evaluation
    )


def run_cases(cases: Iterable[Case], evaluator: Evaluator) -> list[CaseResult]:
    return [run_case(case, evaluator) for case in cases]
