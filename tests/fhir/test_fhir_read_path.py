import gzip
import re
import shutil
from pathlib import Path

import pytest

from cds.fhir import InputError, read_path

DATA = Path(__file__).parent / "data"
BULK = DATA / "bulk-export"


def test_json_file_origins_start_with_the_file_name() -> None:
    result = read_path(DATA / "transaction-urn.json")
    assert [raw.origin for raw in result.resources][:2] == [
        "transaction-urn.json entry[0]",
        "transaction-urn.json entry[1]",
    ]


def test_gzipped_json_file_is_read(tmp_path: Path) -> None:
    target = tmp_path / "patient.json.gz"
    target.write_bytes(gzip.compress((DATA / "transaction-urn.json").read_bytes()))
    assert len(read_path(target).resources) == 4


def test_gzipped_ndjson_file_is_read(tmp_path: Path) -> None:
    target = tmp_path / "Observation.ndjson.gz"
    target.write_bytes(gzip.compress((BULK / "Observation.ndjson").read_bytes()))
    assert [raw.origin for raw in read_path(target).resources] == [
        "Observation.ndjson.gz line 1",
        "Observation.ndjson.gz line 2",
    ]


def test_single_line_ndjson_file_is_read_as_ndjson() -> None:
    assert [raw.origin for raw in read_path(BULK / "Condition.ndjson").resources] == [
        "Condition.ndjson line 1"
    ]


def test_bulk_export_directory_reads_every_file_in_name_order() -> None:
    result = read_path(BULK)
    assert [raw.origin for raw in result.resources] == [
        "Condition.ndjson line 1",
        "Observation.ndjson line 1",
        "Observation.ndjson line 2",
        "Patient.ndjson line 1",
        "Patient.ndjson line 2",
    ]


def test_directory_skips_files_of_other_types(tmp_path: Path) -> None:
    shutil.copy(BULK / "Condition.ndjson", tmp_path)
    (tmp_path / "README.md").write_text("# export\n")
    (tmp_path / ".Condition.ndjson.swp").write_bytes(b"\x00\x01")
    assert len(read_path(tmp_path).resources) == 1


def test_directory_without_fhir_files_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# export\n")
    with pytest.raises(InputError, match=re.escape("no .json, .ndjson, .json.gz or .ndjson.gz files")):
        read_path(tmp_path)


def test_missing_path_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        read_path(tmp_path / "absent.json")


def test_unsupported_file_type_is_rejected(tmp_path: Path) -> None:
    target = tmp_path / "patient.xml"
    target.write_text("<Patient xmlns='http://hl7.org/fhir'/>")
    with pytest.raises(InputError, match=r"patient.xml: unsupported file type; expected .json"):
        read_path(target)


def test_invalid_json_error_names_the_file_and_line(tmp_path: Path) -> None:
    target = tmp_path / "broken.json"
    target.write_bytes(b'{\n  "resourceType": "Patient",\n  "id": \n}')
    with pytest.raises(InputError, match="^" + re.escape(f"{target}: invalid JSON at line 4, column 1")):
        read_path(target)


def test_bad_ndjson_line_error_names_the_file_and_line(tmp_path: Path) -> None:
    shutil.copy(BULK / "Observation.ndjson", tmp_path)
    (tmp_path / "Patient.ndjson").write_bytes(b'{"resourceType":"Patient","id":"p1"}\n{"resourceType":\n')
    with pytest.raises(
        InputError, match="^" + re.escape(f"{tmp_path / 'Patient.ndjson'}: invalid JSON at line 2")
    ):
        read_path(tmp_path)


def test_corrupt_gzip_file_is_rejected_by_name(tmp_path: Path) -> None:
    target = tmp_path / "patient.json.gz"
    target.write_bytes(b"{not gzip at all}")
    with pytest.raises(InputError, match=r"patient.json.gz: not a valid gzip file"):
        read_path(target)


def test_truncated_gzip_file_is_rejected_by_name(tmp_path: Path) -> None:
    target = tmp_path / "patient.json.gz"
    target.write_bytes(gzip.compress((DATA / "transaction-urn.json").read_bytes())[:200])
    with pytest.raises(InputError, match=r"patient.json.gz: not a valid gzip file"):
        read_path(target)


def test_a_path_as_text_is_read() -> None:
    assert read_path(str(BULK)) == read_path(BULK)


def test_json_that_is_not_fhir_names_the_file_once(tmp_path: Path) -> None:
    target = tmp_path / "study.json"
    target.write_text('{"name": "spasm study", "rows": [1, 2, 3]}')
    with pytest.raises(InputError) as error:
        read_path(target)
    assert str(error.value).startswith(f"{target}: not FHIR: an object without resourceType; expected")
    assert str(error.value).count("study.json") == 1


def test_an_error_inside_a_file_names_the_file_once(tmp_path: Path) -> None:
    target = tmp_path / "list.json"
    target.write_text('[{"resourceType": "Patient", "id": "p"}, 7]')
    with pytest.raises(InputError) as error:
        read_path(target)
    assert str(error.value) == f"{target}: item[1]: expected a FHIR resource (a JSON object); found a number"
