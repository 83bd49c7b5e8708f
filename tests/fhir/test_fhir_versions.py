from pathlib import Path
from typing import Any

from cds.fhir import RawResource, latest_versions, read_path

DATA = Path(__file__).parent / "data"


def potassium(
    origin: str, value: float, meta: dict[str, Any] | None = None, id_: str | None = "k1"
) -> RawResource:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": "Patient/pat-1042"},
        "valueQuantity": {
            "value": value,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        },
    }
    if id_ is not None:
        resource["id"] = id_
    if meta is not None:
        resource["meta"] = meta
    return RawResource(resource, None, origin)


def kept_values(resources: list[RawResource]) -> list[float]:
    return [raw.resource["valueQuantity"]["value"] for raw in resources]


def test_higher_version_id_wins_whatever_the_input_order() -> None:
    kept, notes = latest_versions(read_path(DATA / "history-bundle.json").resources)
    assert [raw.resource["meta"]["versionId"] for raw in kept] == ["2"]
    assert [(note.origin, note.message) for note in notes] == [
        (
            "history-bundle.json entry[1]",
            "Observation/k1 version 1 superseded by version 2 at history-bundle.json entry[0]",
        )
    ]


def test_version_ids_compare_as_numbers() -> None:
    kept, _ = latest_versions(
        [potassium("a", 3.1, {"versionId": "10"}), potassium("b", 3.4, {"versionId": "9"})]
    )
    assert kept_values(kept) == [3.1]


def test_later_last_updated_wins_without_version_ids() -> None:
    newer = potassium("a", 3.4, {"lastUpdated": "2024-03-01T10:00:00Z"})
    older = potassium("b", 3.1, {"lastUpdated": "2024-03-01T08:00:00Z"})
    kept, notes = latest_versions([newer, older])
    assert kept_values(kept) == [3.4]
    assert notes[0].origin == "b"


def test_last_updated_compares_instants_across_time_zones() -> None:
    newer = potassium("a", 3.1, {"lastUpdated": "2024-03-01T08:00:00Z"})
    older = potassium("b", 3.4, {"lastUpdated": "2024-03-01T09:00:00+02:00"})
    kept, _ = latest_versions([newer, older])
    assert kept_values(kept) == [3.1]


def test_version_ids_that_are_not_numbers_fall_back_to_last_updated() -> None:
    newer = potassium("a", 3.4, {"versionId": "b7", "lastUpdated": "2024-03-02T00:00:00Z"})
    older = potassium("b", 3.1, {"versionId": "c1", "lastUpdated": "2024-03-01T00:00:00Z"})
    kept, _ = latest_versions([newer, older])
    assert kept_values(kept) == [3.4]


def test_later_in_input_wins_without_any_version_information() -> None:
    kept, notes = latest_versions([potassium("a", 3.1), potassium("b", 3.4)])
    assert kept_values(kept) == [3.4]
    assert [str(note) for note in notes] == [
        "a: Observation/k1 superseded by a later copy at b (no version information: input order decides)"
    ]


def test_unreadable_meta_counts_as_no_version_information() -> None:
    kept, _ = latest_versions(
        [potassium("a", 3.1, {"versionId": 2, "lastUpdated": "yesterday"}), potassium("b", 3.4)]
    )
    assert kept_values(kept) == [3.4]


def test_identical_copies_are_dropped_with_a_note() -> None:
    kept, notes = latest_versions([potassium("prefetch.a", 3.1), potassium("prefetch.b", 3.1)])
    assert [raw.origin for raw in kept] == ["prefetch.a"]
    assert [str(note) for note in notes] == [
        "prefetch.b: Observation/k1 is an identical copy of prefetch.a; dropped"
    ]


def test_resources_without_id_are_all_kept() -> None:
    kept, notes = latest_versions([potassium("a", 3.1, id_=None), potassium("b", 3.1, id_=None)])
    assert (len(kept), notes) == (2, [])


def test_same_id_on_different_resource_types_is_not_a_version() -> None:
    patient = RawResource({"resourceType": "Patient", "id": "k1"}, None, "p")
    kept, notes = latest_versions([patient, potassium("a", 3.1)])
    assert (kept, notes) == ([patient, potassium("a", 3.1)], [])


def test_kept_versions_stay_in_input_order() -> None:
    resources = [potassium("a", 3.1, id_="k1"), potassium("b", 3.2, id_="k2"), potassium("c", 3.3, id_="k1")]
    kept, _ = latest_versions(resources)
    assert [raw.origin for raw in kept] == ["c", "b"]


def test_version_id_too_long_to_be_a_fhir_id_counts_as_no_version() -> None:
    huge = {"versionId": "9" * 5000}
    kept, _ = latest_versions([potassium("a", 3.1, huge), potassium("b", 3.4, {"versionId": "1"})])
    assert kept_values(kept) == [3.4]
