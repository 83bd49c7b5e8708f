from typing import Any

import pytest

from cds.fhir import InputError, read_prefetch


def potassium(id_: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": "Patient/pat-1042"},
    }


def test_missing_prefetch_reads_as_empty() -> None:
    result = read_prefetch(None)
    assert (result.resources, result.notes) == ([], [])


def test_empty_prefetch_reads_as_empty() -> None:
    result = read_prefetch({})
    assert (result.resources, result.notes) == ([], [])


def test_prefetch_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(InputError, match=r"^prefetch: expected an object"):
        read_prefetch(["Observation"])  # type: ignore[arg-type]


def test_prefetch_bundle_entries_are_named_by_key() -> None:
    prefetch = {
        "potassium": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": potassium("k1")}]}
    }
    assert [raw.origin for raw in read_prefetch(prefetch).resources] == ["prefetch.potassium entry[0]"]


def test_prefetch_resources_are_shared_not_copied() -> None:
    resource = potassium("k1")
    prefetch = {
        "potassium": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": resource}]}
    }
    assert read_prefetch(prefetch).resources[0].resource is resource


def test_null_prefetch_key_is_noted() -> None:
    assert [str(note) for note in read_prefetch({"meds": None}).notes] == ["prefetch.meds: no data (null)"]
