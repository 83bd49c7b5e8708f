"""The file formats FHIR input comes in, told by name: JSON documents and NDJSON, each maybe gzipped.

The one place that knows the suffixes and the compression, for `read_path`, the back-test's population
and the population generator alike, so that they cannot disagree about a file; a new format starts here.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cds.errors import InputError

JSON_SUFFIXES = (".json", ".json.gz")
"""One document: a resource, a Bundle, a JSON list of resources or a CDS Hooks prefetch object."""
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz")
"""One resource a line, as FHIR Bulk Data exports write them."""
SUPPORTED = ".json, .ndjson, .json.gz or .ndjson.gz"
"""The formats in words, for messages."""


def is_supported(name: str) -> bool:
    """A file read as FHIR input; hidden files (editor and OS droppings) never are."""
    return is_json(name) or is_ndjson(name)


def is_json(name: str) -> bool:
    return name.endswith(JSON_SUFFIXES) and not name.startswith(".")


def is_ndjson(name: str) -> bool:
    return name.endswith(NDJSON_SUFFIXES) and not name.startswith(".")


def is_compressed(name: str) -> bool:
    return name.endswith(".gz")


def decompress(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        raise InputError("not a valid gzip file") from None


def read_file(path: Path) -> bytes:
    """The file's content, decompressed when its name says gzip."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the file: {error.strerror}") from None
    return decompress(data) if is_compressed(path.name) else data


def lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of an NDJSON file, stripped, streamed (decompressed as read)."""
    for _, line in numbered_lines(path):
        yield line


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines with their line numbers (from 1), so a report can point into the file."""
    opener: Any = gzip.open if is_compressed(path.name) else open
    stream: IO[bytes]
    with opener(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            stripped = line.strip()
            if stripped:
                yield number, stripped
