"""A FHIR ValueSet with an expansion, dropped under rules/valuesets/fhir/, becomes a concept's members."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds.rulebook import RulebookError, load_rulebook
from cds.rulebook.catalogue import catalogue

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
VALUE_SET: dict[str, Any] = {
    "resourceType": "ValueSet",
    "id": "dysphagia-example",
    "url": "http://example.org/fhir/ValueSet/dysphagia",
    "version": "20261101",
    "name": "Dysphagia",
    "status": "active",
    "compose": {"include": [{"system": SNOMED, "concept": [{"code": "40739000"}]}]},
    "expansion": {
        "identifier": "urn:uuid:7a6b3c2e-0b0e-4d52-9a55-0c9c4a1f3e11",
        "timestamp": "2026-11-01T00:00:00Z",
        "total": 3,
        "contains": [
            {"system": SNOMED, "code": "429975007", "display": "Oral phase dysphagia"},
            {
                "system": ICD10CM,
                "code": "R13.1",
                "display": "Dysphagia",
                "abstract": True,
                "contains": [
                    {"system": ICD10CM, "code": "R13.12", "display": "Dysphagia, oropharyngeal phase"}
                ],
            },
            {"system": ICD10CM, "code": "R13.19", "display": "Other dysphagia", "inactive": True},
        ],
    },
}
CONCEPT = "  swallowing_difficulty:\n    label: difficulty swallowing\n"


def with_value_set(rules: Path, value_set: dict[str, Any], status: str = "repo-only") -> Path:
    path = rules / "valuesets" / "fhir" / "dysphagia.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(value_set, indent=2))
    red_flags = rules / "valuesets" / "red_flags.yaml"
    text = red_flags.read_text()
    assert CONCEPT in text
    added = f"    valuesets: [{{file: fhir/dysphagia.json, status: {status}}}]\n"
    red_flags.write_text(text.replace(CONCEPT, CONCEPT + added))
    return path


def test_the_expansion_s_codes_become_members(rules: Path) -> None:
    with_value_set(rules, VALUE_SET)
    terminology = load_rulebook(rules).terminology
    found = terminology.lookup(ICD10CM, "R1312")
    assert found is not None and found.name == "swallowing_difficulty"
    assert found.code is not None and found.code.source == (
        "FHIR ValueSet http://example.org/fhir/ValueSet/dysphagia version 20261101"
    )
    assert found.code.status == "repo-only"


def test_abstract_and_inactive_codes_are_left_out(rules: Path) -> None:
    with_value_set(rules, VALUE_SET)
    terminology = load_rulebook(rules).terminology
    imported = {
        c.code
        for c in terminology.codes("red_flag", "swallowing_difficulty")
        if c.source and "ValueSet" in c.source
    }
    assert imported == {"429975007", "R13.12"}


def test_rules_list_shows_the_imported_codes(rules: Path) -> None:
    with_value_set(rules, VALUE_SET)
    assert "FHIR ValueSet fhir/dysphagia.json [REPO-ONLY]: 429975007, R13.12" in catalogue(
        load_rulebook(rules)
    )


def test_a_value_set_without_expansion_is_refused_saying_how_to_get_one(rules: Path) -> None:
    with_value_set(rules, {k: v for k, v in VALUE_SET.items() if k != "expansion"})
    with pytest.raises(
        RulebookError,
        match=r"rules/valuesets/fhir/dysphagia.json:1: .*has no `expansion`: export it expanded",
    ):
        load_rulebook(rules)


def test_an_unknown_code_system_is_named_with_its_line(rules: Path) -> None:
    broken = json.loads(json.dumps(VALUE_SET))
    broken["expansion"]["contains"][0]["system"] = "http://example.org/local"
    path = with_value_set(rules, broken)
    with pytest.raises(RulebookError) as caught:
        load_rulebook(rules)
    [problem] = [str(p) for p in caught.value.problems]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "example.org/local" in text)
    assert problem.startswith(f"rules/valuesets/fhir/dysphagia.json:{line}: expansion.contains.0.system:")
    assert "'http://example.org/local' is not one the rules know" in problem


def test_a_missing_file_is_named_where_the_concept_names_it(rules: Path) -> None:
    with_value_set(rules, VALUE_SET)
    (rules / "valuesets" / "fhir" / "dysphagia.json").unlink()
    with pytest.raises(
        RulebookError, match=r"concepts\.swallowing_difficulty\.valuesets\.0\.file: no such file"
    ):
        load_rulebook(rules)
