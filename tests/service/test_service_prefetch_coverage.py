"""Whatever `cds evaluate` would use, the service receives: the fallback asks a FHIR server that applies
search filters as a real one does (code tokens, status, current versions only) for everything the
rules read, however its codes are written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_fhir_server import TOKEN, FhirTestServer
from service_helpers import PATIENT_VIEW, MakeClient, cards_without_uuids, hook_call

from cds.cards import to_dict
from cds.evaluation import Evaluator
from cds.fhir import read_path

pytestmark = pytest.mark.slow

PATIENT = "pat-001"
SNOMED_OID = "urn:oid:2.16.840.1.113883.6.96"
LOINC_OID = "urn:oid:2.16.840.1.113883.6.1"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
WHO = "http://hl7.org/fhir/sid/icd-10"
RXNORM_OID = "urn:oid:2.16.840.1.113883.6.88"
ACTIVE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
}


def observation(oid: str, code: dict[str, Any], when: str, **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": code,
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": when,
        **fields,
    }


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


CHARTS: dict[str, list[dict[str, Any]]] = {
    "icd-coded symptom, text-only red flag": [
        observation("cramp-icd", coded(ICD10CM, "R252"), "2026-11-10"),
        observation("swallow-words", {"text": "Difficulty swallowing solids"}, "2026-11-20"),
    ],
    "oid-coded symptom and lab": [
        observation("fasc-oid", coded(SNOMED_OID, "82470000"), "2026-11-12"),
        observation(
            "mg-oid",
            coded(LOINC_OID, "19123-9"),
            "2026-11-21",
            valueQuantity={
                "value": 1.2,
                "unit": "mg/dL",
                "system": "http://unitsofmeasure.org",
                "code": "mg/dL",
            },
        ),
    ],
    "who-coded red flag, oid-coded medication": [
        observation("spasm-1", coded(ICD10CM, "M62.838"), "2026-11-01"),
        observation("dysarthria-who", coded(WHO, "R47.1"), "2026-11-22"),
        {
            "resourceType": "MedicationRequest",
            "id": "hctz-1",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": coded(RXNORM_OID, "316049"),
            "subject": {"reference": f"Patient/{PATIENT}"},
            "authoredOn": "2026-09-01",
        },
    ],
    "a later version recodes weakness as absent": [
        {
            "resourceType": "Condition",
            "id": "cramp-1",
            "clinicalStatus": ACTIVE,
            "code": {"text": "Leg cramps at night"},
            "subject": {"reference": f"Patient/{PATIENT}"},
            "onsetDateTime": "2026-11-01",
        },
        observation("weak-1", coded(SNOMED_OID, "26544005"), "2026-11-15", meta={"versionId": "1"}),
        observation(
            "weak-1",
            coded(SNOMED_OID, "26544005"),
            "2026-11-15",
            meta={"versionId": "2"},
            valueCodeableConcept=coded("http://snomed.info/sct", "2667000"),
        ),
    ],
}


@pytest.fixture(params=sorted(CHARTS), ids=lambda name: name.replace(" ", "-"))
def chart(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    patient = {"resourceType": "Patient", "id": PATIENT, "gender": "female", "birthDate": "1968-02-11"}
    return [patient, *CHARTS[request.param]]


@pytest.fixture
def chart_server(chart: list[dict[str, Any]]) -> Iterator[FhirTestServer]:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in chart[1:]]}
    server = FhirTestServer({"patient": chart[0], "everything": bundle})
    server.start()
    yield server
    server.stop()


def test_the_fallback_receives_everything_cds_evaluate_uses(
    chart: list[dict[str, Any]],
    chart_server: FhirTestServer,
    make_client: MakeClient,
    evaluator: Evaluator,
    tmp_path: Path,
) -> None:
    path = tmp_path / "chart.json"
    path.write_text(
        json.dumps(
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in chart]}
        )
    )
    direct = cards_without_uuids(to_dict(evaluator.evaluate(read_path(path), patient_id=PATIENT).response))
    client = make_client(fhir_servers=[chart_server.root])
    authorization = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds",
    }
    response = client.post(
        PATIENT_VIEW, json=hook_call(None, fhirServer=chart_server.url("ok"), fhirAuthorization=authorization)
    )
    assert response.status_code == 200, response.text
    assert direct, "each chart gives a card"
    assert cards_without_uuids(response.json()) == direct
