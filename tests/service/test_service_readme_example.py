"""The README's first call works as written, and answers what `cds evaluate` answers for the record."""

from __future__ import annotations

from pathlib import Path

import orjson
from service_helpers import cards_without_uuids
from starlette.testclient import TestClient

from cds.cards import to_dict
from cds.evaluation import Evaluator
from cds.fhir import read_path

REPO = Path(__file__).resolve().parents[2]


def test_readme_example_request_gives_the_cards_cds_evaluate_gives(
    client: TestClient, evaluator: Evaluator
) -> None:
    body = (REPO / "examples" / "patient-view-request.json").read_bytes()
    assert "examples/patient-view-request.json" in (REPO / "README.md").read_text()
    response = client.post(
        "/cds-services/spasm-patient-view", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    expected = to_dict(
        evaluator.evaluate(
            read_path(REPO / "fixtures" / "prefetch-urgent.json"), patient_id="pat-001"
        ).response
    )
    assert cards_without_uuids(response.json()) == cards_without_uuids(expected)
    assert response.json()["cards"][0]["indicator"] == "critical"
    assert orjson.loads(body)["context"]["patientId"] == "pat-001"
