"""Patient-view request bodies of a chosen size: a real Synthea chart plus a few recent spasm findings.

A real chart is mostly history the rules never read (vital signs, old labs, past problems), with the few
recent findings that matter on top. So each body takes its bulk from Synthea charts, pooled from several
patients when one is too small and re-attributed to the request's patient, and adds one clinical
scenario dated relative to today, because the rules only look back a few weeks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from cds.errors import CdsError, InputError
from cds.fhir import formats

SIZES = (10, 100, 1000, 10_000)
SERVICE_PATH = "/cds-services/spasm-patient-view"
EHR_BASE = "https://ehr.example.org/fhir"
PREFETCH_KEYS = {
    "Condition": "conditions",
    "Observation": "observations",
    "MedicationRequest": "medicationRequests",
    "MedicationStatement": "medicationStatements",
}
_CHART_STRIDE = 7
"""Consecutive variants start from charts this far apart, so their backgrounds differ."""

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"


class BenchError(CdsError):
    """The benchmark cannot run as asked; the message names the file or option at fault."""


class BenchRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    resources: int
    """Clinical resources in the prefetch Bundles; the Patient is not counted."""
    scenario: str
    patient_id: str
    body: bytes


@dataclass(frozen=True)
class Chart:
    patient: dict[str, Any]
    clinical: tuple[dict[str, Any], ...]


class ChartLibrary:
    """The Synthea bundles of a folder, each read on first use so a quick run reads only a few."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise BenchError(
                f"{folder}: no such folder; expected Synthea FHIR R4 bundles (*.json or *.json.gz)"
            )
        self.files = sorted(
            p for p in folder.iterdir() if formats.is_supported(p.name) and formats.is_json(p.name)
        )
        if not self.files:
            raise BenchError(f"{folder}: no *.json or *.json.gz Synthea bundles in this folder")
        self._charts: dict[int, Chart | None] = {}

    def chart(self, index: int) -> Chart | None:
        """The chart of file `index` (modulo the file count); None for a bundle without a Patient."""
        index %= len(self.files)
        if index not in self._charts:
            self._charts[index] = _read_chart(self.files[index])
        return self._charts[index]

    def charts_from(self, start: int) -> Iterator[Chart]:
        """Every chart once, starting at file `start`."""
        for offset in range(len(self.files)):
            found = self.chart(start + offset)
            if found is not None:
                yield found


def _read_chart(path: Path) -> Chart | None:
    try:
        bundle = orjson.loads(formats.read_file(path))
    except (InputError, orjson.JSONDecodeError) as error:
        raise BenchError(f"{path}: not a readable Synthea bundle ({error})") from None
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    if not isinstance(entries, list):
        raise BenchError(f"{path}: expected a FHIR Bundle with an entry list")
    resources = [
        e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if not patients:
        return None
    clinical = tuple(r for r in resources if r.get("resourceType") in PREFETCH_KEYS)
    return Chart(patient=patients[0], clinical=clinical)


Scenario = Callable[[dt.date], list[dict[str, Any]]]


def _days_ago(today: dt.date, days: int) -> str:
    return (today - dt.timedelta(days=days)).isoformat()


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _condition(id_: str, concept: dict[str, Any], onset: str) -> dict[str, Any]:
    terminology = "http://terminology.hl7.org/CodeSystem"
    return {
        "resourceType": "Condition",
        "id": id_,
        "clinicalStatus": {"coding": [{"system": f"{terminology}/condition-clinical", "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": f"{terminology}/condition-ver-status", "code": "confirmed"}]
        },
        "category": [
            {"coding": [{"system": f"{terminology}/condition-category", "code": "problem-list-item"}]}
        ],
        "code": concept,
        "onsetDateTime": onset,
        "recordedDate": onset,
    }


def _lab(id_: str, concept: dict[str, Any], value: float, unit: str, when: str) -> dict[str, Any]:
    category = "http://terminology.hl7.org/CodeSystem/observation-category"
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "category": [{"coding": [{"system": category, "code": "laboratory", "display": "Laboratory"}]}],
        "code": concept,
        "effectiveDateTime": when,
        "issued": f"{when}T14:00:00Z",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def _benign_low_magnesium(today: dt.date) -> list[dict[str, Any]]:
    return [
        _condition("bench-cramp", _concept(SNOMED, "55300003", "Cramp"), _days_ago(today, 10)),
        _lab(
            "bench-mg",
            _concept(LOINC, "19123-9", "Magnesium [Mass/volume] in Serum or Plasma"),
            1.3,
            "mg/dL",
            _days_ago(today, 5),
        ),
    ]


def _urgent_red_flag(today: dt.date) -> list[dict[str, Any]]:
    return [
        _condition("bench-fasc", _concept(SNOMED, "82470000", "Muscle fasciculation"), _days_ago(today, 24)),
        _condition("bench-dysph", _concept(SNOMED, "40739000", "Dysphagia"), _days_ago(today, 15)),
    ]


def _diuretic(today: dt.date) -> list[dict[str, Any]]:
    return [
        _condition("bench-spasm", _concept(ICD10, "R25.2", "Cramp and spasm"), _days_ago(today, 15)),
        {
            "resourceType": "MedicationRequest",
            "id": "bench-hctz",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": _concept(RXNORM, "316049", "Hydrochlorothiazide 25 MG"),
            "authoredOn": _days_ago(today, 170),
        },
        _lab(
            "bench-k",
            _concept(LOINC, "2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
            3.9,
            "mmol/L",
            _days_ago(today, 5),
        ),
    ]


def _no_spasm(today: dt.date) -> list[dict[str, Any]]:
    return [
        _lab(
            "bench-k",
            _concept(LOINC, "2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
            4.1,
            "mmol/L",
            _days_ago(today, 5),
        )
    ]


SCENARIOS: dict[str, Scenario] = {
    "benign-low-magnesium": _benign_low_magnesium,
    "urgent-red-flag": _urgent_red_flag,
    "diuretic": _diuretic,
    "no-spasm": _no_spasm,
}
"""Variants cycle through these: three give a card (info, critical, info), one gives none."""


def build_request(library: ChartLibrary, resources: int, variant: int, today: dt.date) -> BenchRequest:
    """Raises BenchError when the size is too small for the scenario or larger than the data allows."""
    name = list(SCENARIOS)[variant % len(SCENARIOS)]
    findings = SCENARIOS[name](today)
    if resources < len(findings):
        raise BenchError(
            f"{resources} resources is fewer than the {len(findings)} findings of scenario {name}"
        )
    charts = library.charts_from(variant * _CHART_STRIDE)
    first = next(charts, None)
    if first is None:
        raise BenchError(f"{library.files[0].parent}: none of the bundles holds a Patient")
    patient_id = str(first.patient["id"])
    background = _background(first, charts, resources - len(findings))
    if len(background) < resources - len(findings):
        raise BenchError(
            f"{library.files[0].parent}: the charts hold {len(background)} clinical resources, fewer than "
            f"the {resources - len(findings)} a {resources}-resource request needs"
        )
    reference = {"reference": f"Patient/{patient_id}"}
    prefetch: dict[str, Any] = {"patient": first.patient}
    grouped: dict[str, list[dict[str, Any]]] = {key: [] for key in PREFETCH_KEYS.values()}
    for resource in [*background, *findings]:
        grouped[PREFETCH_KEYS[resource["resourceType"]]].append({**resource, "subject": reference})
    for key, members in grouped.items():
        prefetch[key] = _searchset(members)
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SERVICE_PATH}/{resources}/{variant}")),
        "context": {"userId": "Practitioner/bench", "patientId": patient_id},
        "prefetch": prefetch,
    }
    return BenchRequest(resources=resources, scenario=name, patient_id=patient_id, body=orjson.dumps(body))


def _background(first: Chart, rest: Iterator[Chart], count: int) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    for chart in chain((first,), rest):
        taken.extend(chart.clinical[: count - len(taken)])
        if len(taken) == count:
            break
    return taken


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{EHR_BASE}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def build_workload(
    library: ChartLibrary, sizes: tuple[int, ...], variants: int, today: dt.date
) -> dict[int, list[BenchRequest]]:
    """`variants` different bodies per size, cycling through the scenarios and the charts."""
    return {size: [build_request(library, size, v, today) for v in range(variants)] for size in sizes}
