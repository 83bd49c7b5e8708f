"""Whole patient records: what each resource is there for, how a record is sent, and how to vary it.

A record keeps the role of every resource (symptom, red flag, irrelevant, ...), so a property can take
away every symptom or add a red flag and know what it did. Ids are unique within a record: FHIR servers
never reuse an id, and two different resources with one id are versions of each other.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict

from cds.testing.fhir_values import JsonObject

Role = Literal[
    "patient",
    "symptom",
    "red_flag",
    "problem",
    "lab",
    "assessment",
    "medication",
    "contributor",
    "irrelevant",
    "other_patient",
    "entered_in_error",
    "context",
]
RecordForm = Literal["collection", "searchset", "list", "ndjson"]
RECORD_FORMS: tuple[RecordForm, ...] = ("collection", "searchset", "list", "ndjson")
BASE_URL = "https://ehr.example.org/fhir"


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    resource: dict[str, Any]

    @property
    def reference(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"


class PatientRecord(BaseModel):
    """One patient's resources as an EHR would hold them, evaluated at `now`."""

    model_config = ConfigDict(frozen=True)

    patient_id: str
    now: dt.datetime
    entries: tuple[Entry, ...]

    @property
    def resources(self) -> list[JsonObject]:
        return [entry.resource for entry in self.entries]

    def references(self) -> set[str]:
        """`Type/id` of every resource in the record, the way a card cites its evidence."""
        return {entry.reference for entry in self.entries}

    def with_entries(self, entries: Iterable[Entry]) -> PatientRecord:
        return self.model_copy(update={"entries": tuple(entries)})

    def without(self, *roles: Role) -> PatientRecord:
        return self.with_entries(e for e in self.entries if e.role not in roles)

    def plus(self, role: Role, resources: Iterable[JsonObject]) -> PatientRecord:
        """The record with `resources` added under fresh ids, so none replaces a resource already there."""
        taken = {entry.resource["id"] for entry in self.entries}
        fresh = (f"added-{n}" for n in itertools.count() if f"added-{n}" not in taken)
        added = [Entry(role=role, resource={**resource, "id": next(fresh)}) for resource in resources]
        return self.with_entries([*self.entries, *added])


def as_bundle(resources: Iterable[JsonObject], bundle_type: Literal["collection", "searchset"]) -> JsonObject:
    entries: list[JsonObject] = []
    for resource in resources:
        entry: JsonObject = {"resource": resource}
        if "id" in resource:
            entry["fullUrl"] = f"{BASE_URL}/{resource['resourceType']}/{resource['id']}"
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    bundle: JsonObject = {"resourceType": "Bundle", "type": bundle_type}
    if bundle_type == "searchset":
        bundle["total"] = len(entries)
    if entries:
        bundle["entry"] = entries
    return bundle


def encode(record: PatientRecord, form: RecordForm) -> bytes:
    """The record as a file or request body: a Bundle, a JSON list of resources, or NDJSON."""
    if form == "list":
        return orjson.dumps(record.resources)
    if form == "ndjson":
        return b"\n".join(orjson.dumps(resource) for resource in record.resources) + b"\n"
    return orjson.dumps(as_bundle(record.resources, form))
