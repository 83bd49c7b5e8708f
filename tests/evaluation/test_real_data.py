"""Real FHIR data nobody here wrote: every Synthea patient evaluates, and the cards follow its labs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from cds.evaluation import Evaluator
from cds.fhir import InputError, RawResource, ReadResult, read_path

POTASSIUM = {"6298-4", "2823-3"}
CALCIUM = {"49765-1", "17861-6"}
ALBUMIN = {"1751-7"}


def synthea_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "synthea-r4").glob("*.json.gz"))


def is_patient_bundle(read: ReadResult) -> bool:
    return any(r.resource_type == "Patient" for r in read.resources)


def test_every_synthea_patient_evaluates_with_no_cards(evaluator: Evaluator, shared_data: Path) -> None:
    evaluated = 0
    for path in synthea_files(shared_data):
        read = read_path(path)
        if not is_patient_bundle(read):
            continue
        assert evaluator.evaluate(read).response.cards == (), path.name
        evaluated += 1
    assert evaluated >= 97


def test_a_bundle_without_a_patient_is_refused_with_a_clear_error(
    evaluator: Evaluator, shared_data: Path
) -> None:
    practitioners = next(p for p in synthea_files(shared_data) if p.name.startswith("practitioner"))
    with pytest.raises(InputError, match="cannot tell which patient"):
        evaluator.evaluate(read_path(practitioners))


def _latest(read: ReadResult, codes: set[str]) -> tuple[dt.datetime, float] | None:
    found = []
    for raw in read.resources:
        resource = raw.resource
        if resource["resourceType"] != "Observation":
            continue
        if {c["code"] for c in resource["code"]["coding"]} & codes:
            when = dt.datetime.fromisoformat(resource["effectiveDateTime"])
            found.append((when, float(resource["valueQuantity"]["value"])))
    return max(found) if found else None


def _with_cramp(read: ReadResult, patient_url: str, onset: dt.datetime) -> ReadResult:
    cramp: dict[str, Any] = {
        "resourceType": "Condition",
        "id": "added-cramp",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55300003", "display": "Cramp"}]},
        "subject": {"reference": patient_url},
        "onsetDateTime": onset.isoformat(),
    }
    return ReadResult(resources=[*read.resources, RawResource(cramp, None, "added")], notes=read.notes)


def test_with_a_cramp_added_cards_follow_the_latest_electrolytes(
    evaluator: Evaluator, shared_data: Path
) -> None:
    """Independent expectation: latest potassium below 3.5 or albumin-corrected calcium below 8.5 is a
    contributor; the record is evaluated the day after its latest potassium, so the labs are current."""
    outcomes: list[tuple[bool, bool]] = []
    for path in synthea_files(shared_data):
        read = read_path(path)
        potassium = _latest(read, POTASSIUM)
        if potassium is None:
            continue
        patient = next(r for r in read.resources if r.resource_type == "Patient")
        now = potassium[0] + dt.timedelta(days=1)
        evaluation = evaluator.evaluate(
            _with_cramp(read, patient.full_url or "", now - dt.timedelta(days=3)), now=now
        )
        text = " ".join(f"{c.summary} {c.detail}" for c in evaluation.response.cards)
        calcium = _latest(read, CALCIUM)
        albumin = _latest(read, ALBUMIN)
        corrected = None
        if calcium and calcium[0] == potassium[0]:
            corrected = calcium[1]
            if albumin and abs(albumin[0] - calcium[0]) <= dt.timedelta(days=2):
                corrected += 0.8 * (4.0 - albumin[1])
        assert ("low potassium" in text) == (potassium[1] < 3.5), path.name
        assert ("low calcium" in text) == (corrected is not None and corrected < 8.5), path.name
        rule_ids = {c.source.topic.code for c in evaluation.response.cards if c.source.topic}
        assert "spasm-electrolyte-workup" not in rule_ids, path.name
        outcomes.append((potassium[1] < 3.5, corrected is not None and corrected < 8.5))
    assert len(outcomes) >= 40
    assert any(low_k or low_ca for low_k, low_ca in outcomes), "no patient exercised a low electrolyte"
    assert not all(low_k or low_ca for low_k, low_ca in outcomes), "no patient exercised normal electrolytes"


@pytest.mark.parametrize("folder", ["pddi-cds", "us-core"])
def test_shared_lab_examples_are_read_and_evaluated(
    evaluator: Evaluator, shared_data: Path, folder: str
) -> None:
    for path in sorted((shared_data / folder).glob("*.json")):
        read = read_path(path)
        evaluation = evaluator.evaluate(read)
        assert evaluation.response.cards == (), path.name
