"""File formats, told by name once for every reader: JSON, NDJSON, gzipped or not, never hidden files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cds.fhir import InputError, formats


@pytest.mark.parametrize("name", ["b.json", "b.json.gz", "Patient.ndjson", "Patient.ndjson.gz"])
def test_json_and_ndjson_gzipped_or_not_are_supported(name: str) -> None:
    assert formats.is_supported(name)


@pytest.mark.parametrize("name", [".b.json", "._Patient.ndjson", "b.xml", "b.json.bz2", "notes.txt"])
def test_hidden_files_and_other_formats_are_not(name: str) -> None:
    assert not formats.is_supported(name)


def test_a_gzipped_file_is_read_decompressed(tmp_path: Path) -> None:
    path = tmp_path / "b.json.gz"
    path.write_bytes(gzip.compress(b'{"resourceType": "Patient"}'))
    assert formats.read_file(path) == b'{"resourceType": "Patient"}'


def test_a_gzip_name_on_plain_bytes_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "b.json.gz"
    path.write_bytes(b'{"resourceType": "Patient"}')
    with pytest.raises(InputError, match=r"^not a valid gzip file$"):
        formats.read_file(path)


def test_ndjson_lines_are_streamed_stripped_and_without_blanks(tmp_path: Path) -> None:
    path = tmp_path / "Patient.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"id": "1"}\r\n\n  {"id": "2"}  \n'))
    assert list(formats.lines(path)) == [b'{"id": "1"}', b'{"id": "2"}']
