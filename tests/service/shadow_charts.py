"""Charts for shadow tests: a real fixture as a prefetch, its magnesium moved to a value and a date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from service_helpers import FIXTURES

KEYS = {"Condition": "conditions", "Observation": "observations", "MedicationRequest": "medicationRequests"}


def prefetch_of(fixture: str) -> dict[str, Any]:
    """The fixture's resources as the EHR would prefetch them: the Patient, and a searchset per key."""
    bundle = orjson.loads((FIXTURES / fixture).read_bytes())
    prefetch: dict[str, Any] = {
        key: {"resourceType": "Bundle", "type": "searchset", "entry": []} for key in KEYS.values()
    }
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            prefetch["patient"] = resource
        elif resource["resourceType"] in KEYS:
            prefetch[KEYS[resource["resourceType"]]]["entry"].append({"resource": resource})
    return prefetch


def magnesium_chart(value: float) -> dict[str, Any]:
    """benign-low-magnesium.json (a cramp, hypertension, a magnesium result) with the magnesium at
    `value` mg/dL, taken yesterday: recent whatever the day the tests run."""
    prefetch = prefetch_of("benign-low-magnesium.json")
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()
    for entry in prefetch["observations"]["entry"]:
        resource = entry["resource"]
        if resource["id"] == "mg-1":
            resource["valueQuantity"]["value"] = value
            resource["effectiveDateTime"] = yesterday
            resource["issued"] = f"{yesterday}T14:00:00Z"
    return prefetch
