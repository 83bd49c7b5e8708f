"""`Model.of(...)` is the constructor: the same instance from the same fields, the same errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cds.facts.models import Evidence, Lab, SetAside, Symptom, WholeRecord

EVIDENCE: dict[str, Any] = {
    "resource_type": "Observation",
    "resource_id": "mg-1",
    "origin": "prefetch.observations entry[0]",
    "date": dt.date(2026, 11, 20),
    "text": "Magnesium (LOINC 19123-9): 1.3 mg/dL",
}
FIELDS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (Evidence, EVIDENCE),
    (Evidence, {**EVIDENCE, "resource_id": None, "date": "2026-11-20"}),
    (SetAside, {"reference": "Observation/mg-0", "what": "Magnesium", "reason": "has no date"}),
    (
        Lab,
        {
            "id": "lab:magnesium",
            "label": "magnesium",
            "evidence": (Evidence(**EVIDENCE),),
            "analyte": "magnesium",
            "value": 1,
            "unit": "mg/dL",
            "lab_flag": "low",
            "days_ago": 3,
            "corrected": False,
            "detail": "magnesium 1 mg/dL on 2026-11-20",
        },
    ),
    (
        Symptom,
        {
            "id": "symptom:cramp",
            "label": "muscle cramp",
            "concept": "cramp",
            "region": "unknown",
            "severity_rank": 0,
            "days_since_onset": 5,
            "source": "condition",
        },
    ),
    (
        WholeRecord,
        {
            "id": "record",
            "label": "record",
            "electrolytes_in_lookback": True,
            "symptom_count": 1,
            "red_flag_count": 0,
        },
    ),
]
REFUSED: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (Evidence, {**EVIDENCE, "date": "not a date"}),
    (SetAside, {"reference": "Observation/mg-0", "what": "Magnesium"}),
    (
        WholeRecord,
        {
            "id": "record",
            "label": "record",
            "electrolytes_in_lookback": True,
            "symptom_count": -1,
            "red_flag_count": 0,
        },
    ),
    (Lab, {**FIELDS[3][1], "value": float("nan")}),
    (Symptom, {**FIELDS[4][1], "unknown_field": 1}),
]


@pytest.mark.parametrize(("model", "fields"), FIELDS)
def test_of_builds_what_the_constructor_builds(model: Any, fields: dict[str, Any]) -> None:
    built, constructed = model.of(**fields), model(**fields)
    assert type(built) is model
    assert built == constructed
    assert built.model_fields_set == constructed.model_fields_set
    assert built.model_dump_json() == constructed.model_dump_json()


@pytest.mark.parametrize(("model", "fields"), REFUSED)
def test_of_refuses_what_the_constructor_refuses_with_the_same_errors(
    model: Any, fields: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as by_of:
        model.of(**fields)
    with pytest.raises(ValidationError) as by_constructor:
        model(**fields)
    assert by_of.value.errors() == by_constructor.value.errors()
