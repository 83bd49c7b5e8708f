import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.fhir import InputError, ReadResult, read_input
from cds.fhir.unpack import MAX_BUNDLE_NESTING

DATA = Path(__file__).parent / "data"


def observation(id_: Any, patient: str = "Patient/pat-1042") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": patient},
        "valueQuantity": {
            "value": 3.1,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        },
    }


def bundle(type_: str, entries: list[Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": type_, "entry": entries}


def read(value: Any) -> ReadResult:
    return read_input(orjson.dumps(value))


def notes_of(result: ReadResult) -> list[str]:
    return [str(note) for note in result.notes]


def test_searchset_entries_keep_full_url_and_position() -> None:
    entries = [
        {"fullUrl": "https://ehr.example.org/fhir/Observation/k1", "resource": observation("k1")},
        {"fullUrl": "https://ehr.example.org/fhir/Observation/k2", "resource": observation("k2")},
    ]
    result = read(bundle("searchset", entries))
    assert [(raw.id, raw.full_url, raw.origin) for raw in result.resources] == [
        ("k1", "https://ehr.example.org/fhir/Observation/k1", "entry[0]"),
        ("k2", "https://ehr.example.org/fhir/Observation/k2", "entry[1]"),
    ]


@pytest.mark.parametrize("type_", ["searchset", "collection", "transaction", "batch", "document", "history"])
def test_every_bundle_type_is_flattened(type_: str) -> None:
    result = read(bundle(type_, [{"resource": observation("k1")}]))
    assert [raw.resource_type for raw in result.resources] == ["Observation"]


def test_nested_bundle_entries_are_flattened_with_their_path() -> None:
    result = read_input((DATA / "collection-nested.json").read_bytes())
    assert [(raw.resource_type, raw.origin) for raw in result.resources] == [
        ("Patient", "entry[0]"),
        ("Condition", "entry[1] entry[0]"),
    ]


def test_bundles_nested_too_deep_are_skipped_with_a_note() -> None:
    value: dict[str, Any] = bundle("collection", [{"resource": observation("k1")}])
    for _ in range(MAX_BUNDLE_NESTING):
        value = bundle("collection", [{"resource": value}])
    result = read(value)
    assert result.resources == []
    assert "Bundles nested more than" in notes_of(result)[0]


def test_operation_outcome_in_a_searchset_becomes_a_note_not_data() -> None:
    entries = [
        {"resource": observation("k1")},
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [
                    {"severity": "warning", "code": "too-costly", "diagnostics": "Only 100 results returned"}
                ],
            },
            "search": {"mode": "outcome"},
        },
    ]
    result = read(bundle("searchset", entries))
    assert [raw.id for raw in result.resources] == ["k1"]
    assert notes_of(result) == [
        "entry[1]: OperationOutcome instead of data: warning too-costly: Only 100 results returned"
    ]


def test_next_page_link_is_reported() -> None:
    value = bundle("searchset", [{"resource": observation("k1")}])
    value["link"] = [{"relation": "next", "url": "https://ehr.example.org/fhir/Observation?_page=2"}]
    assert notes_of(read(value)) == ["input: only the first page of results was sent (Bundle.link next)"]


def test_json_list_of_resources_is_read_item_by_item() -> None:
    result = read([observation("k1"), bundle("searchset", [{"resource": observation("k2")}])])
    assert [(raw.id, raw.origin) for raw in result.resources] == [
        ("k1", "item[0]"),
        ("k2", "item[1] entry[0]"),
    ]


def test_single_resource_is_read_as_is() -> None:
    result = read(observation("k1"))
    assert [(raw.id, raw.full_url, raw.origin) for raw in result.resources] == [("k1", None, "input")]


def test_resource_is_kept_exactly_as_sent() -> None:
    sent = observation("k1") | {"context": {"reference": "Encounter/e1"}, "_status": {"id": "s"}}
    assert read(sent).resources[0].resource == sent


def test_text_input_is_accepted() -> None:
    assert read_input(orjson.dumps(observation("k1")).decode()).resources[0].id == "k1"


def test_ndjson_is_read_line_by_line_skipping_blank_lines() -> None:
    data = b"\n".join([orjson.dumps(observation("k1")), b"", b"  ", orjson.dumps(observation("k2")), b""])
    assert [(raw.id, raw.origin) for raw in read_input(data).resources] == [
        ("k1", "line 1"),
        ("k2", "line 4"),
    ]


def test_ndjson_with_windows_line_endings_is_read() -> None:
    data = orjson.dumps(observation("k1")) + b"\r\n" + orjson.dumps(observation("k2")) + b"\r\n"
    assert [raw.id for raw in read_input(data).resources] == ["k1", "k2"]


def test_bad_ndjson_line_is_named() -> None:
    data = b"\n".join(
        [orjson.dumps(observation("k1")), orjson.dumps(observation("k2")), b'{"resourceType": ']
    )
    with pytest.raises(InputError, match=r"^invalid JSON at line 3, column 18"):
        read_input(data)


def test_ndjson_line_that_is_not_a_resource_is_named() -> None:
    data = b"\n".join([orjson.dumps(observation("k1")), b"[1, 2]"])
    with pytest.raises(InputError, match=r"^line 2: expected a FHIR resource"):
        read_input(data)


def test_ndjson_line_nested_too_deep_is_named() -> None:
    data = b"\n".join(
        [orjson.dumps(observation("k1")), b'{"resourceType": "Basic", "x": ' + b"[" * 70 + b"]" * 70 + b"}"]
    )
    with pytest.raises(InputError, match=r"^line 2: JSON is nested deeper"):
        read_input(data)


def test_pretty_printed_json_with_an_error_is_not_mistaken_for_ndjson() -> None:
    with pytest.raises(InputError, match=r"^invalid JSON at line 3"):
        read_input(b'{\n  "resourceType": "Observation",\n  "id": k1\n}')


def test_prefetch_object_is_read_key_by_key() -> None:
    result = read_input((DATA / "prefetch-patient-view.json").read_bytes())
    assert [(raw.resource_type, raw.origin) for raw in result.resources] == [
        ("Patient", "prefetch.patient"),
        ("Observation", "prefetch.potassium entry[0]"),
        ("Observation", "prefetch.potassium entry[1]"),
    ]


def test_prefetch_problems_are_all_reported() -> None:
    result = read_input((DATA / "prefetch-patient-view.json").read_bytes())
    assert notes_of(result) == [
        "prefetch.potassium entry[2]: OperationOutcome instead of data: "
        "warning incomplete: Results older than 2018 are archived and were not searched",
        "prefetch.potassium: only the first page of results was sent (Bundle.link next)",
        "prefetch.conditions: OperationOutcome instead of data: error timeout: Condition search timed out",
        "prefetch.medications: no data (null)",
    ]


def test_prefetch_value_that_is_not_fhir_names_the_key() -> None:
    with pytest.raises(
        InputError, match=r"^prefetch.meds: expected a FHIR resource, a Bundle or null; found a list"
    ):
        read({"patient": observation("k1"), "meds": []})


def test_prefetch_value_without_resource_type_names_the_key() -> None:
    with pytest.raises(InputError, match=r"^prefetch.meds: .* found an object without resourceType"):
        read({"meds": {"entry": []}})


def test_operation_outcome_without_issue_text_is_still_noted() -> None:
    assert notes_of(read({"resourceType": "OperationOutcome"})) == [
        "input: OperationOutcome instead of data: no issue text"
    ]


def test_long_operation_outcome_text_is_shortened() -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "fatal", "diagnostics": "x" * 5000}],
    }
    assert len(notes_of(read(outcome))[0]) < 400


@pytest.mark.parametrize(
    ("data", "found"),
    [(b"42", "a number"), (b'"Observation"', "a string"), (b"null", "null"), (b"true", "a boolean")],
)
def test_top_level_value_that_is_not_json_object_or_list_is_rejected(data: bytes, found: str) -> None:
    with pytest.raises(InputError, match=f"^input: expected a FHIR resource, .* found {found}$"):
        read_input(data)


def test_list_item_that_is_not_a_resource_is_rejected() -> None:
    with pytest.raises(
        InputError, match=r"^item\[1\]: expected a FHIR resource \(a JSON object\); found a number"
    ):
        read([observation("k1"), 7])


def test_list_item_without_resource_type_is_rejected() -> None:
    with pytest.raises(
        InputError, match=r"^item\[0\]: expected a FHIR resource, but resourceType is missing"
    ):
        read([{"id": "k1", "status": "final"}])


def test_resource_type_that_is_not_text_is_rejected() -> None:
    with pytest.raises(InputError, match="resourceType is missing or not text"):
        read({"resourceType": ["Observation"]})


def test_entry_that_is_not_an_object_is_skipped_with_a_note() -> None:
    result = read(bundle("searchset", ["Observation/k1", {"resource": observation("k2")}]))
    assert [raw.id for raw in result.resources] == ["k2"]
    assert notes_of(result) == ["entry[0]: entry is a string, not an object; skipped"]


def test_entry_without_resource_is_skipped_with_a_note() -> None:
    result = read_input((DATA / "history-bundle.json").read_bytes())
    assert len(result.resources) == 2
    assert notes_of(result) == ["entry[2]: entry has no resource; skipped"]


def test_entry_resource_without_resource_type_is_skipped_with_a_note() -> None:
    result = read(bundle("searchset", [{"resource": {"id": "k1", "status": "final"}}]))
    assert result.resources == []
    assert notes_of(result) == ["entry[0]: resource has no resourceType; skipped"]


def test_bundle_entry_that_is_not_a_list_is_noted() -> None:
    result = read({"resourceType": "Bundle", "type": "searchset", "entry": {"resource": observation("k1")}})
    assert result.resources == []
    assert notes_of(result) == ["input: Bundle.entry is an object, not a list; skipped"]


def test_id_that_is_not_text_reads_as_no_id() -> None:
    assert read(observation(1042)).resources[0].id is None


def test_full_url_that_is_not_text_is_ignored() -> None:
    result = read(bundle("searchset", [{"fullUrl": 5, "resource": observation("k1")}]))
    assert result.resources[0].full_url is None


def test_deeply_nested_input_is_rejected() -> None:
    value: Any = observation("k1")
    for _ in range(40):
        value = {"extension": [value]}
    with pytest.raises(InputError, match="nested deeper than 64"):
        read(bundle("collection", [{"resource": {"resourceType": "Basic", "extension": [value]}}]))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["Bundle", "OperationOutcome", "Observation", "entry", "resource", "resourceType"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["resourceType", "entry", "resource", "fullUrl", "id", "issue", "link"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_is_read_or_rejected_with_input_error(value: Any) -> None:
    try:
        result = read_input(json.dumps(value))
    except InputError:
        return
    assert all(isinstance(raw.resource_type, str) for raw in result.resources)


def test_an_already_parsed_bundle_reads_as_its_text_does() -> None:
    text = (DATA / "transaction-urn.json").read_bytes()
    assert read_input(json.loads(text)) == read_input(text)


def test_an_already_parsed_list_reads_as_its_text_does() -> None:
    resources = [observation("k1"), observation("k2")]
    assert read_input(resources) == read_input(json.dumps(resources))


def test_a_json_object_that_is_not_fhir_is_said_once() -> None:
    with pytest.raises(InputError) as error:
        read_input(b'{"name": "spasm study", "rows": [1, 2, 3], "version": 2}')
    assert str(error.value) == (
        "input: not FHIR: an object without resourceType; expected a FHIR resource, a Bundle, "
        "a JSON list of resources, NDJSON or a CDS Hooks prefetch object"
    )
