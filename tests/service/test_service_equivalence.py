"""The service gives the same cards as `cds evaluate` and `Evaluator.evaluate` for the same record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from service_helpers import FIXTURES, PATIENT_VIEW, cards_without_uuids, hook_call
from starlette.testclient import TestClient

from cds.cards import to_dict
from cds.cli.main import cli
from cds.evaluation import Evaluator
from cds.fhir import read_path

PATIENT = "pat-001"
KEYS = {
    "Patient": "patient",
    "Condition": "conditions",
    "Observation": "observations",
    "MedicationRequest": "medicationRequests",
    "MedicationStatement": "medicationStatements",
}
RECORDS = sorted(path for path in FIXTURES.glob("*.json") if path.name != "prefetch-urgent.json")


def as_prefetch(bundle: dict[str, Any]) -> dict[str, Any]:
    """A collection Bundle split into the service's prefetch keys, as an EHR would send it."""
    prefetch: dict[str, Any] = {key: {"resourceType": "Bundle", "type": "searchset"} for key in KEYS.values()}
    for entry in bundle["entry"]:
        prefetch[KEYS[entry["resource"]["resourceType"]]].setdefault("entry", []).append(entry)
    return prefetch


def _service_cards(client: TestClient, prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(PATIENT_VIEW, json=hook_call(prefetch))
    assert response.status_code == 200
    return cards_without_uuids(response.json())


@pytest.mark.parametrize("record", RECORDS, ids=lambda path: path.stem)
def test_a_record_gets_the_same_cards_over_http_as_from_the_evaluator(
    client: TestClient, evaluator: Evaluator, record: Path
) -> None:
    direct = evaluator.evaluate(read_path(record), patient_id=PATIENT)
    prefetch = as_prefetch(orjson.loads(record.read_bytes()))
    assert _service_cards(client, prefetch) == cards_without_uuids(to_dict(direct.response))


def test_a_prefetch_gets_the_same_cards_over_http_as_from_cds_evaluate(
    client: TestClient, urgent_prefetch: dict[str, Any]
) -> None:
    result = CliRunner().invoke(
        cli, ["evaluate", str(FIXTURES / "prefetch-urgent.json"), "--patient", PATIENT]
    )
    assert result.exit_code == 0, result.output
    assert _service_cards(client, urgent_prefetch) == cards_without_uuids(orjson.loads(result.output))
