"""Lab values from real data are read in one unit per analyte, whatever the lab wrote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson

from cds.evaluation import Evaluator
from cds.facts.models import Lab
from cds.fhir import read_input, read_path

NOW = dt.datetime(2018, 8, 29, tzinfo=dt.UTC)


def cramp(patient: str, onset: str = "2018-08-25") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "cramp",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55300003"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "onsetDateTime": onset,
    }


def labs_of(evaluator: Evaluator, *resources: dict[str, Any], now: dt.datetime = NOW) -> dict[str, Lab]:
    evaluation = evaluator.evaluate(read_input(orjson.dumps(list(resources))), now=now)
    return {f.analyte: f for f in evaluation.facts.facts if isinstance(f, Lab)}


def shared(path: Path) -> dict[str, Any]:
    [raw] = read_path(path).resources
    return raw.resource


def test_potassium_in_non_ucum_meq_case_is_read_as_mmol(evaluator: Evaluator, shared_data: Path) -> None:
    labs = labs_of(evaluator, cramp("f301"), shared(shared_data / "pddi-cds" / "Observation-o302.json"))
    assert labs["potassium"].value == 3.6
    assert labs["potassium"].unit == "mmol/L"


def test_mass_code_carrying_a_molar_value_is_converted_by_its_unit(
    evaluator: Evaluator, shared_data: Path
) -> None:
    labs = labs_of(evaluator, cramp("f301"), shared(shared_data / "pddi-cds" / "Observation-o303.json"))
    assert labs["magnesium"].unit == "mg/dL"
    assert abs(labs["magnesium"].value - 0.8 / 0.4114) < 0.001


def test_zero_width_spaces_do_not_reach_card_text(evaluator: Evaluator, shared_data: Path) -> None:
    labs = labs_of(evaluator, cramp("f301"), shared(shared_data / "pddi-cds" / "Observation-o302.json"))
    assert "\u200b" not in labs["potassium"].evidence[0].text


def test_quantity_with_only_a_unit_is_understood(evaluator: Evaluator, shared_data: Path) -> None:
    calcium = shared(shared_data / "us-core" / "observation-serum-calcium.json")
    labs = labs_of(
        evaluator, cramp("example", "2005-07-01"), calcium, now=dt.datetime(2005, 7, 6, tzinfo=dt.UTC)
    )
    assert labs["calcium_total"].value == 7.7
    assert labs["calcium_total"].lab_flag == "low"


def test_lab_interpretation_is_preferred_to_the_default_threshold(
    evaluator: Evaluator, shared_data: Path
) -> None:
    calcium = shared(shared_data / "us-core" / "observation-serum-calcium.json")
    evaluation = evaluator.evaluate(
        read_input(orjson.dumps([cramp("example", "2005-07-01"), calcium])),
        now=dt.datetime(2005, 7, 6, tzinfo=dt.UTC),
    )
    [card] = evaluation.response.cards
    assert "low calcium" in card.summary
    assert "flagged L by the lab" in (card.detail or "")


def test_unknown_unit_is_unusable_evidence_never_compared(evaluator: Evaluator, shared_data: Path) -> None:
    potassium = shared(shared_data / "pddi-cds" / "Observation-o302.json")
    potassium = {**potassium, "valueQuantity": {"value": 14.1, "unit": "mg/dL"}}
    evaluation = evaluator.evaluate(read_input(orjson.dumps([cramp("f301"), potassium])), now=NOW)
    assert not [f for f in evaluation.facts.facts if isinstance(f, Lab)]
    [aside] = [s for s in evaluation.facts.set_aside if s.reference == "Observation/o302"]
    assert "unusable evidence: unit 'mg/dL'" in aside.reason
