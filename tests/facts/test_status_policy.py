"""Which statuses count as current data is rules data (`valuesets/status.yaml`), not code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from rules_copy import copy_rules, edit, line_of, problems_of

from cds.evaluation import Evaluation, Evaluator
from cds.fhir import read_input, read_path
from cds.rulebook import load_rulebook

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return copy_rules(tmp_path)


def evaluate(rules: Path | None, fixture: str) -> Evaluation:
    return Evaluator(load_rulebook(rules)).evaluate(read_path(FIXTURES / fixture), now=NOW)


def resolved_cramp_not_abated() -> bytes:
    """The resolved-cramp fixture without its abatement date, so only the clinical status sets it aside."""
    bundle = orjson.loads((FIXTURES / "excluded-resolved-symptom.json").read_bytes())
    for entry in bundle["entry"]:
        entry["resource"].pop("abatementDateTime", None)
    return orjson.dumps(bundle)


def set_aside(evaluation: Evaluation) -> dict[str, str]:
    return {item.reference: item.reason for item in evaluation.facts.set_aside}


def test_a_resolved_condition_is_set_aside_with_its_status(rules: Path) -> None:
    evaluation = evaluate(rules, "excluded-resolved-symptom.json")
    assert set_aside(evaluation)["Condition/cramp-1"] == "clinical status is resolved, not a current problem"
    assert evaluation.response.cards == ()


def test_a_clinical_status_marked_counting_makes_the_condition_current(rules: Path) -> None:
    path = rules / "valuesets" / "status.yaml"
    record = read_input(resolved_cramp_not_abated())
    assert "Condition/cramp-1" in set_aside(Evaluator(load_rulebook(rules)).evaluate(record, now=NOW))
    edit(path, "resolved: {display: Resolved, counts: false", "resolved: {display: Resolved, counts: true")
    evaluation = Evaluator(load_rulebook(rules)).evaluate(record, now=NOW)
    assert "Condition/cramp-1" not in set_aside(evaluation)
    assert "spasm-electrolyte-workup" in [c.source.topic.code for c in evaluation.response.cards]


def test_an_observation_status_marked_not_counting_sets_the_lab_aside(rules: Path) -> None:
    before = evaluate(rules, "benign-low-magnesium.json")
    assert "Observation/mg-1" not in set_aside(before)
    edit(
        rules / "valuesets" / "status.yaml",
        "final: {display: Final, counts: true",
        "final: {display: Final, counts: false",
    )
    after = evaluate(rules, "benign-low-magnesium.json")
    assert set_aside(after)["Observation/mg-1"] == "status is final"


def test_the_reason_wording_is_data(rules: Path) -> None:
    edit(
        rules / "valuesets" / "status.yaml",
        'reason: "clinical status is {code}, not a current problem"',
        'reason: "no longer current ({code})"',
    )
    assert (
        set_aside(evaluate(rules, "excluded-resolved-symptom.json"))["Condition/cramp-1"]
        == "no longer current (resolved)"
    )


def test_a_bad_counts_value_names_file_line_and_field(rules: Path) -> None:
    path = rules / "valuesets" / "status.yaml"
    edit(
        path,
        "remission: {display: Remission, counts: false",
        "remission: {display: Remission, counts: perhaps",
    )
    [problem] = problems_of(rules)
    assert problem.startswith(f"rules/valuesets/status.yaml:{line_of(path, 'perhaps')}: ")
    assert "resources.Condition.codes.remission.counts" in problem


def test_a_reason_without_the_status_is_refused(rules: Path) -> None:
    path = rules / "valuesets" / "status.yaml"
    edit(path, 'reason: "status is {code}"', 'reason: "status is {status}"')
    [problem] = problems_of(rules)
    assert f"rules/valuesets/status.yaml:{line_of(path, '{status}')}:" in problem
    assert "resources.Observation.reason" in problem and "must name the status as {code}" in problem


def test_a_resource_type_without_a_policy_is_named(rules: Path) -> None:
    path = rules / "valuesets" / "status.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("  MedicationStatement:")])
    [problem] = problems_of(rules)
    assert "rules/valuesets/status.yaml" in problem and "missing MedicationStatement" in problem
