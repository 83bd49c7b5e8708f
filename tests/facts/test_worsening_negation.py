"""A recorded worsening is negated by the terminology's negation vocabulary (terminology/presence.yaml),
the same words that make "no weakness" absent, not by a word list of its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from rules_copy import copy_rules, edit

from cds.evaluation import Evaluator
from cds.facts.models import HistoryPattern
from cds.fhir import read_input
from cds.rulebook import RulebookError, load_rulebook

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
ACTIVE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
}


def condition(resource_id: str, code: str, onset: str, note: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": resource_id,
        "clinicalStatus": ACTIVE,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
        "subject": {"reference": "Patient/p"},
        "onsetDateTime": onset,
    }
    if note:
        resource["note"] = [{"text": note}]
    return resource


def progressive(rules: Path, note: str) -> bool:
    record = [condition("cramp", "55300003", "2026-11-15"), condition("weak", "26544005", "2026-11-16", note)]
    evaluation = Evaluator(load_rulebook(rules)).evaluate(read_input(orjson.dumps(record)), now=NOW)
    return any(
        isinstance(f, HistoryPattern) and f.concept == "progressive_red_flag" for f in evaluation.facts.facts
    )


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return copy_rules(tmp_path)


def test_a_negation_word_added_to_the_terminology_negates_a_worsening(rules: Path) -> None:
    assert progressive(rules, "hardly worsening since last visit")
    edit(rules / "terminology" / "presence.yaml", "never had, ", "never had, hardly, ")
    assert not progressive(rules, "hardly worsening since last visit")


def test_a_scope_end_keeps_a_worsening_after_it(rules: Path) -> None:
    assert progressive(rules, "no pain but worsening grip weakness")
    edit(rules / "terminology" / "presence.yaml", "scope_ends: [but, ", "scope_ends: [")
    assert not progressive(rules, "no pain but worsening grip weakness")


def test_an_empty_scope_end_names_file_line_and_field(rules: Path) -> None:
    path = rules / "terminology" / "presence.yaml"
    edit(path, "scope_ends: [but, ", 'scope_ends: ["", ')
    with pytest.raises(RulebookError) as caught:
        load_rulebook(rules)
    [problem] = [str(p) for p in caught.value.problems]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "scope_ends:" in text)
    assert problem.startswith(f"rules/terminology/presence.yaml:{line}: negation.scope_ends.0:")


def test_the_course_file_no_longer_takes_a_word_list_of_negations(rules: Path) -> None:
    path = rules / "valuesets" / "course.yaml"
    path.write_text(path.read_text() + 'negations: ["no", "not"]\n')
    with pytest.raises(RulebookError) as caught:
        load_rulebook(rules)
    [problem] = [str(p) for p in caught.value.problems]
    assert "rules/valuesets/course.yaml" in problem and "negations" in problem
