"""The one pass in C that lets the fast reader skip yyjson: what makes a text unusual, and that a text
msgspec takes and the pass calls plain is always one orjson takes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_takers import orjson_takes

from cds.fhir.jsonparse import MAX_DEPTH, Shape, text_shape

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BODIES = [path.read_bytes() for path in sorted(FIXTURES.glob("*.json"))]

UNUSUAL = {
    "an exponent": b'{"value": 1e5}',
    "a capital exponent after a fraction": b'{"value": 1.5E-3}',
    "19 integer digits": b'{"value": 1234567890123456789}',
    "19 negative integer digits": b'{"value": -1234567890123456789}',
    "invalid UTF-8": b'{"text": "\xc3\x28"}',
    "the UTF-8 of a surrogate": b'{"text": "\xed\xa0\x80"}',
    "an overlong UTF-8 form": b'{"text": "\xc0\xaf"}',
    "UTF-8 beyond U+10FFFF": b'{"text": "\xf4\x90\x80\x80"}',
    "UTF-8 cut short at the end": b'"\xe2\x82',
    "an escaped surrogate": b'{"text": "\\ud83d\\ude00"}',
    "an escaped surrogate in capitals": b'{"text": "\\uDC00"}',
}
PLAIN = {
    "18 integer digits": b'{"value": 123456789012345678}',
    "a long fraction": b'{"value": 0.12345678901234567890123}',
    "true and false, whose e follows no digit": b"[true, false, null]",
    "an exponent inside a string": b'{"value": "1e5"}',
    "valid UTF-8 of every length": '{"text": "é € 😀"}'.encode(),
    "an escape that is no surrogate": b'{"text": "\\u00e9 \\\\ud800"}',
    "digits next to a string": b'["1234567890", 1234567890, "123456789"]',
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_a_text_that_orjson_may_refuse_where_msgspec_does_not_is_unusual(name: str) -> None:
    assert text_shape(UNUSUAL[name]) == Shape.UNUSUAL


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_a_text_without_such_a_case_is_plain(name: str) -> None:
    assert text_shape(PLAIN[name]) == Shape.PLAIN


def test_nesting_beyond_the_limit_is_deeper_whatever_else_the_text_holds() -> None:
    depth = MAX_DEPTH + 1
    assert text_shape(b"[" * depth + b"1e5, \xff" + b"]" * depth) == Shape.DEEPER


def _outside_strings(text: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


def _escapes(text: str) -> list[str]:
    return [match.group(1) for match in re.finditer(r"\\(u[0-9a-fA-F]{4}|.)", text)]


def expected_shape(valid_json: bytes) -> Shape:
    """The rule `_nesting.c` states, for valid JSON within the nesting limit, read with regular
    expressions."""
    try:
        text = valid_json.decode("utf-8")
    except UnicodeDecodeError:
        return Shape.UNUSUAL
    numbers = _outside_strings(text)
    if re.search(r"[0-9][eE]", numbers) or re.search(r"(?<![0-9.])[0-9]{19}", numbers):
        return Shape.UNUSUAL
    if any(escape[:2] in ("ud", "uD") for escape in _escapes(text)):
        return Shape.UNUSUAL
    return Shape.PLAIN


def values(integers: st.SearchStrategy[int]) -> st.SearchStrategy[object]:
    floats = st.floats(allow_nan=False, allow_infinity=False)
    leaves = st.none() | st.booleans() | integers | floats | st.text()
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(), children, max_size=6),
        max_leaves=40,
    )


texts = st.one_of(
    values(st.integers()).map(lambda value: json.dumps(value).encode()),
    values(st.integers()).map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
    values(st.integers(-(2**63), 2**64 - 1)).map(orjson.dumps),
)
"""Valid JSON as the standard library (escaping all but ASCII, or none) and orjson write it."""


@given(texts.filter(lambda text: text_shape(text) != Shape.DEEPER), st.integers(0, 127))
def test_the_shape_of_valid_json_is_the_stated_rule_wherever_it_falls_in_the_blocks_read(
    text: bytes, offset: int
) -> None:
    assert text_shape(b" " * offset + text) == expected_shape(text)


def _msgspec_takes(text: bytes) -> bool:
    """Whether msgspec decodes the text, building it or (as a Raw value) only checking its syntax."""
    try:
        msgspec.json.decode(text)
        msgspec.json.decode(text, type=msgspec.Raw)
    except (msgspec.DecodeError, RecursionError):
        return False
    return True


SIGNIFICANT = [
    *b'{}[]:,"\\ \t\n\r0123456789.-+eEutrfalsnd',
    0x00,
    0x1F,
    0x7F,
    *range(0x80, 0x100, 7),
    0xC2,
    0xE0,
    0xED,
    0xF0,
    0xF4,
    0xBF,
]
"""Bytes that change what a JSON text means: its syntax, and the edges of UTF-8."""
FRAGMENTS = [b"1e400", b"9" * 400, b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"-", b"1.", b"01", b"\xc3"]


@st.composite
def mutated(draw: st.DrawFn, texts: st.SearchStrategy[bytes]) -> bytes:
    """A text with a few bytes or fragments put in, taken out or swapped: valid or nearly so."""
    text = bytearray(draw(texts))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(("insert", "delete", "replace", "fragment")))
        byte = bytes([draw(st.sampled_from(SIGNIFICANT))])
        if action == "insert":
            text[at:at] = byte
        elif action == "delete":
            del text[at : at + 1]
        elif action == "replace":
            text[at : at + 1] = byte
        else:
            text[at:at] = draw(st.sampled_from(FRAGMENTS))
    return bytes(text)


def never_plain_and_refused(text: bytes) -> None:
    if text_shape(text) == Shape.PLAIN and _msgspec_takes(text):
        assert orjson_takes(text)


@settings(max_examples=500)
@given(mutated(texts))
def test_msgspec_never_takes_a_plain_text_orjson_refuses(text: bytes) -> None:
    never_plain_and_refused(text)


@settings(max_examples=500)
@given(st.lists(st.sampled_from([bytes([byte]) for byte in SIGNIFICANT] + FRAGMENTS), max_size=40))
def test_msgspec_never_takes_a_plain_string_of_json_tokens_orjson_refuses(tokens: list[bytes]) -> None:
    never_plain_and_refused(b"".join(tokens))


@settings(max_examples=200)
@given(mutated(st.sampled_from(BODIES)))
def test_msgspec_never_takes_a_plain_mutated_fixture_body_orjson_refuses(text: bytes) -> None:
    never_plain_and_refused(text)
