"""A population is read one patient at a time, whatever its shape."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from cds.fhir import InputError
from cds.workbench.population import BulkExport, BundleFolder, open_population


def _ndjson(path: Path, resources: list[dict[str, object]]) -> None:
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in resources) + b"\n")


def _observation(oid: str, patient: str) -> dict[str, object]:
    return {"resourceType": "Observation", "id": oid, "subject": {"reference": f"Patient/{patient}"}}


def test_a_folder_of_bundles_gives_one_input_per_file(synthea: Path) -> None:
    population = open_population(synthea)
    assert isinstance(population, BundleFolder)
    inputs = list(population)
    assert len(inputs) == population.expected_patients == 98
    assert all(i.compressed and i.patient_id is None for i in inputs)


def test_a_bulk_export_groups_each_patients_resources_across_files(tmp_path: Path) -> None:
    _ndjson(tmp_path / "Patient.ndjson", [{"resourceType": "Patient", "id": p} for p in ("a", "b", "c")])
    _ndjson(tmp_path / "Observation.ndjson", [_observation(f"o{i}", "abc"[i % 3]) for i in range(9)])
    population = BulkExport(tmp_path, bucket_bytes=64)
    grouped = {
        i.patient_id: sorted(orjson.loads(line)["id"] for line in i.data.split(b"\n")) for i in population
    }
    assert grouped == {
        "a": ["a", "o0", "o3", "o6"],
        "b": ["b", "o1", "o4", "o7"],
        "c": ["c", "o2", "o5", "o8"],
    }


def test_a_bulk_export_patient_is_labelled_with_the_line_of_its_patient_resource(tmp_path: Path) -> None:
    (tmp_path / "Patient.ndjson").write_bytes(
        b'{"resourceType": "Patient", "id": "a"}\n\n{"resourceType": "Patient", "id": "b"}\n'
    )
    _ndjson(tmp_path / "Observation.ndjson", [_observation("o1", "b"), _observation("o2", "c")])
    labels = {i.patient_id: i.label for i in BulkExport(tmp_path)}
    assert labels == {"a": "Patient.ndjson:1", "b": "Patient.ndjson:3", "c": "Observation.ndjson:2"}


def test_resources_naming_no_patient_are_counted_and_not_used(tmp_path: Path) -> None:
    _ndjson(tmp_path / "Patient.ndjson", [{"resourceType": "Patient", "id": "a"}])
    _ndjson(tmp_path / "Practitioner.ndjson", [{"resourceType": "Practitioner", "id": "dr"}])
    population = open_population(tmp_path)
    assert [i.patient_id for i in population] == ["a"]
    assert population.notes == ["1 resources name no patient (subject or patient); not used"]


def test_the_manifest_gives_the_export_time_and_the_patient_count(tmp_path: Path) -> None:
    _ndjson(tmp_path / "Patient.ndjson", [{"resourceType": "Patient", "id": "a"}])
    manifest = {
        "transactionTime": "2026-11-25T00:00:00Z",
        "output": [{"type": "Patient", "url": "Patient.ndjson", "count": 1}],
    }
    (tmp_path / "manifest.json").write_bytes(orjson.dumps(manifest))
    population = open_population(tmp_path)
    assert population.now == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    assert population.expected_patients == 1


def test_a_folder_with_neither_shape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="no patient Bundles"):
        open_population(tmp_path)
