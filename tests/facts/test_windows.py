"""Which window each finding kind's Observations are cut by is rules data (`valuesets/windows.yaml`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from rules_copy import copy_rules, edit, problems_of

from cds.evaluation import Evaluation, Evaluator
from cds.fhir import read_input
from cds.rulebook import load_rulebook

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
SNOMED = "http://snomed.info/sct"
RECORD = [
    {
        "resourceType": "Condition",
        "id": "cramp",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [{"system": SNOMED, "code": "55300003"}]},
        "subject": {"reference": "Patient/p"},
        "onsetDateTime": "2026-11-15",
    },
    {
        "resourceType": "Observation",
        "id": "weak-old",
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": "26544005"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-07-01",
    },
]


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return copy_rules(tmp_path)


def evaluate(rules: Path) -> Evaluation:
    return Evaluator(load_rulebook(rules)).evaluate(read_input(orjson.dumps(RECORD)), now=NOW)


def test_a_red_flag_observation_counts_within_the_window_its_kind_names(rules: Path) -> None:
    assert [c.source.topic.code for c in evaluate(rules).response.cards] == ["spasm-red-flag"]
    edit(
        rules / "valuesets" / "windows.yaml",
        "red_flag: red_flag_window_days",
        "red_flag: symptom_window_days",
    )
    evaluation = evaluate(rules)
    [aside] = [s.reason for s in evaluation.facts.set_aside if s.reference == "Observation/weak-old"]
    assert (
        aside
        == "recorded 2026-07-01, outside the 90-day window (symptom_window_days); counted only as history"
    )
    assert "spasm-red-flag" not in [c.source.topic.code for c in evaluation.response.cards]


def test_an_unknown_window_parameter_names_the_entry(rules: Path) -> None:
    path = rules / "valuesets" / "windows.yaml"
    edit(path, "problem: symptom_window_days", "problem: problem_window_days")
    [problem] = problems_of(rules)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "problem_window_days" in text)
    assert problem.startswith(f"rules/valuesets/windows.yaml:{line}: windows.problem:")
    assert "parameter problem_window_days (window of problem)" in problem and "no such parameter" in problem


def test_a_finding_kind_without_a_window_is_named(rules: Path) -> None:
    edit(rules / "valuesets" / "windows.yaml", "  explaining_condition: red_flag_window_days\n", "")
    [problem] = problems_of(rules)
    assert "rules/valuesets/windows.yaml" in problem and "missing explaining_condition" in problem
