"""Strict JSON parsing with errors a user can act on.

orjson already refuses NaN and Infinity; what it lacks is a nesting limit low enough to protect the
recursive code downstream (pydantic, the fact layer), so that is checked here on the raw bytes, which
costs a fraction of the parse instead of a walk over every parsed value.
"""

from enum import IntEnum
from typing import Any

import orjson

from cds.errors import InputError
from cds.fhir._nesting import json_shape

MAX_DEPTH = 64
BOM = b"\xef\xbb\xbf"
_NON_NUMBERS = ("NaN", "Infinity", "-Infinity")


class Shape(IntEnum):
    """What one pass over JSON text (`_nesting.c`) tells; it holds for valid JSON only."""

    PLAIN = 0
    """Within the nesting limit, and nothing in it that msgspec's syntax check takes and orjson refuses."""
    DEEPER = 1
    UNUSUAL = 2
    """Within the nesting limit, but not known to be one orjson takes when msgspec does (`_nesting.c`)."""


def parse_json_bytes(data: bytes | str) -> Any:
    """Parse one JSON document; a leading UTF-8 byte-order mark is allowed because editors write it."""
    raw = to_utf8(data).removeprefix(BOM)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InputError(describe_error(error)) from None
    if exceeds_depth(raw):
        raise InputError(f"JSON is nested deeper than {MAX_DEPTH} levels; FHIR data never is")
    return value


def exceeds_depth(valid_json: bytes | bytearray | memoryview) -> bool:
    """Whether containers nest deeper than MAX_DEPTH; the bytes must already be known to be valid JSON.

    One pass in C (`_nesting.c`): every exact pure-Python scan tried cost about a sixth of a
    1000-resource call.
    """
    return text_shape(valid_json) == Shape.DEEPER


def text_shape(json: bytes | bytearray | memoryview) -> Shape:
    return Shape(json_shape(json, MAX_DEPTH))


def to_utf8(data: bytes | str) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return data.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(f"text is not valid Unicode at character {error.start + 1}") from None


def describe_error(error: orjson.JSONDecodeError, line: int | None = None) -> str:
    """Readable message; line overrides the error's own when the document was one line of a larger file."""
    if not error.doc.strip():
        return "empty input: expected JSON"
    if "depth limit" in error.msg:
        return f"JSON is nested deeper than {MAX_DEPTH} levels; FHIR data never is"
    where = f"line {error.lineno if line is None else line}, column {error.colno}"
    if error.doc.startswith(_NON_NUMBERS, error.pos):
        return f"invalid JSON at {where}: NaN and Infinity are not JSON numbers"
    return f"invalid JSON at {where}: {error.msg}"
