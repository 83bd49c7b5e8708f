"""Record strategies draw codes from a hospital's own FHIR ValueSet expansions."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import find, given, settings

from cds.testing.records import PatientRecord
from cds.testing.space import Code, RuleSpace, load_space
from cds.testing.strategies import measured_observations, patient_records
from cds.testing.valuesets import value_set_codes, with_value_sets

DIABETES = Path(__file__).parent / "data" / "valueset-diabetes.json"
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
SNOMED = "http://snomed.info/sct"
DIABETES_CODES = {"73211009", "46635009", "739681000", "44054006"}


@pytest.fixture(scope="module")
def diabetes_only() -> RuleSpace:
    return with_value_sets(load_space(), "problem", [DIABETES], only=True)


def test_the_expansion_gives_every_code_nested_ones_included() -> None:
    assert {code.code for code in value_set_codes(DIABETES)} == DIABETES_CODES


def test_an_unexpanded_value_set_gives_the_concepts_its_compose_lists() -> None:
    value_set = {
        "resourceType": "ValueSet",
        "status": "active",
        "compose": {
            "include": [
                {"system": SNOMED, "concept": [{"code": "38341003", "display": "Hypertensive disorder"}]}
            ]
        },
    }
    assert value_set_codes(value_set) == (
        Code(system=SNOMED, code="38341003", display="Hypertensive disorder"),
    )


def test_a_value_set_without_codes_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=re.escape("ValueSet https://x.org/vs: no codes to draw")):
        value_set_codes({"resourceType": "ValueSet", "url": "https://x.org/vs", "status": "draft"})


def test_something_else_than_a_value_set_is_refused() -> None:
    with pytest.raises(ValueError, match="not a FHIR ValueSet"):
        value_set_codes({"resourceType": "CodeSystem"})


@settings(max_examples=30)
@given(patient_records(now=NOW, space=with_value_sets(load_space(), "problem", [DIABETES], only=True)))
def test_with_only_the_value_set_every_problem_is_coded_from_it(record: PatientRecord) -> None:
    for entry in record.entries:
        if entry.role == "problem" and "coding" in entry.resource["code"]:
            assert entry.resource["code"]["coding"][0]["code"] in DIABETES_CODES


def test_records_draw_the_value_set_codes(diabetes_only: RuleSpace) -> None:
    found = find(
        patient_records(now=NOW, space=diabetes_only),
        lambda record: any(e.role == "problem" and "739681000" in str(e.resource) for e in record.entries),
    )
    assert found.patient_id


def test_a_lab_concept_can_take_the_codes_of_a_value_set() -> None:
    local = {
        "resourceType": "ValueSet",
        "status": "active",
        "expansion": {
            "contains": [{"system": "http://loinc.org", "code": "19123-9", "display": "Magnesium"}]
        },
    }
    space = with_value_sets(load_space(), "lab", [local], concept="magnesium", only=True)
    magnesium = next(m for m in space.measured if m.name == "magnesium")
    lab = find(measured_observations("lab", now=NOW, space=space, concept=magnesium), lambda r: True)
    assert lab["code"]["coding"][0]["code"] == "19123-9"


def test_an_unknown_measured_concept_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no lab concept .magnesum.*expected one of: .*magnesium"):
        with_value_sets(load_space(), "lab", [DIABETES], concept="magnesum")
