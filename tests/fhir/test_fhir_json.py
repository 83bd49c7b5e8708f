import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds.fhir import MAX_DEPTH, InputError, parse_json_bytes
from cds.fhir.jsonparse import exceeds_depth


def nested_lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_utf8_byte_order_mark_is_ignored() -> None:
    assert parse_json_bytes(b'\xef\xbb\xbf{"resourceType": "Patient"}') == {"resourceType": "Patient"}


def test_text_input_is_parsed_like_bytes() -> None:
    assert parse_json_bytes('{"display": "Potassium \u200b"}') == {"display": "Potassium \u200b"}


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(InputError, match=r"line 3, column 12"):
        parse_json_bytes(b'{\n  "resourceType": "Observation",\n  "status" "final"\n}')


def test_nan_is_rejected_with_an_explanation() -> None:
    with pytest.raises(InputError, match="NaN and Infinity are not JSON numbers"):
        parse_json_bytes(b'{"valueQuantity": {"value": NaN}}')


def test_infinity_is_rejected() -> None:
    with pytest.raises(InputError, match="line 1, column 30: NaN and Infinity"):
        parse_json_bytes(b'{"valueQuantity": {"value": -Infinity}}')


def test_number_too_large_for_a_double_is_rejected() -> None:
    with pytest.raises(InputError, match="infinity"):
        parse_json_bytes(b'{"value": 1e400}')


def test_empty_input_is_rejected_as_empty() -> None:
    with pytest.raises(InputError, match="empty input"):
        parse_json_bytes(b"  \n")


def test_lone_surrogate_in_text_is_rejected() -> None:
    with pytest.raises(InputError, match="not valid Unicode at character 9"):
        parse_json_bytes('{"id": "\ud800"}')


def test_nesting_at_the_limit_is_accepted() -> None:
    assert parse_json_bytes(nested_lists(MAX_DEPTH)) is not None


def test_nesting_beyond_the_limit_is_rejected() -> None:
    with pytest.raises(InputError, match=f"nested deeper than {MAX_DEPTH}"):
        parse_json_bytes(nested_lists(MAX_DEPTH + 1))


def test_nesting_beyond_what_orjson_allows_gets_the_same_message() -> None:
    with pytest.raises(InputError, match=f"nested deeper than {MAX_DEPTH}"):
        parse_json_bytes(nested_lists(5000))


def test_mixed_objects_and_lists_count_towards_depth() -> None:
    deep = b'{"a":[' * 33 + b"1" + b"]}" * 33
    with pytest.raises(InputError, match="nested deeper"):
        parse_json_bytes(deep)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '"' + "[{" * 100 + '"'
    assert parse_json_bytes(f'{{"display": {text}}}'.encode()) == {"display": "[{" * 100}


def test_closing_brackets_inside_strings_cannot_hide_nesting() -> None:
    deep = b'{"a":["]]]]}}}}",' * 40 + b"1" + b"]}" * 40
    with pytest.raises(InputError, match="nested deeper"):
        parse_json_bytes(deep)


def test_escaped_quotes_do_not_confuse_the_depth_check() -> None:
    deep = b'{"a":["\\"[[[\\\\",' * 40 + b"1" + b"]}" * 40
    with pytest.raises(InputError, match="nested deeper"):
        parse_json_bytes(deep)


def test_escaped_backslash_before_closing_quote_ends_the_string() -> None:
    shallow = b'{"div": "C:\\\\", "x": [' + b"[" * 30 + b"]" * 30 + b"]}"
    assert parse_json_bytes(shallow)["div"] == "C:\\"


def test_escapes_that_hide_no_quote_leave_the_strings_as_they_are() -> None:
    at_the_limit = b'{"a":["\\n[\\u005b\\/",' * 32 + b"1" + b"]}" * 32
    assert parse_json_bytes(at_the_limit)["a"][0] == "\n[[/"


def test_many_escaped_quotes_are_read_as_json_reads_them() -> None:
    shallow = b'{"a": "' + b'\\"[' * 100 + b'\\\\", "b": [' + b"[" * 60 + b"]" * 60 + b"]}"
    assert parse_json_bytes(shallow)["a"].startswith('"[')


def test_many_wide_containers_at_the_limit_are_accepted() -> None:
    wide = b"[" + b",".join([b"[" * 63 + b"]" * 63] * 2000) + b"]"
    assert not exceeds_depth(wide)
    assert exceeds_depth(b"[" + wide + b"]")


_TEXTS = st.text(alphabet='[]{}"\\ab\n', max_size=6)
_JSON = st.recursive(
    st.none() | st.integers(-(2**63), 2**63 - 1) | _TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXTS, inner, max_size=3),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(_JSON)
def test_the_depth_check_counts_what_a_parser_builds(value: object) -> None:
    """Strings full of brackets, quotes and backslashes never count; containers always do."""
    wrapping = MAX_DEPTH - _depth(value)
    text = orjson.dumps(value)
    assert not exceeds_depth(b"[" * wrapping + text + b"]" * wrapping)
    assert exceeds_depth(b"[" * (wrapping + 1) + text + b"]" * (wrapping + 1))


def _scanned_depth(text: bytes) -> int:
    """The nesting of valid JSON read one character at a time, as a parser reads it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == ord("\\"):
                escaped = True
            elif char == ord('"'):
                in_string = False
        elif char == ord('"'):
            in_string = True
        elif char in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in b"]}":
            depth -= 1
    return deepest


@given(st.lists(_JSON, min_size=1, max_size=4), st.integers(0, 3), st.booleans())
def test_the_depth_check_agrees_with_a_scan_one_character_at_a_time(
    values: list[object], spare: int, over: bool
) -> None:
    """Strings with and without brackets side by side take both ways of dropping strings."""
    text = orjson.dumps(values)
    wrapping = max(0, MAX_DEPTH - _scanned_depth(text) + (spare + 1 if over else -spare))
    wrapped = b"[" * wrapping + text + b"]" * wrapping
    assert exceeds_depth(wrapped) == (_scanned_depth(wrapped) > MAX_DEPTH)


_HOSTILE_CHARACTERS = '[]{}"\\/ \n\t\x00\x1f\x7féø€漢字🙂\u2028\ufeff'
_ANY_TEXTS = st.text(st.sampled_from(_HOSTILE_CHARACTERS), max_size=8) | st.text(max_size=4)
_SIBLINGS = st.lists(
    st.none() | st.floats(allow_nan=False) | _ANY_TEXTS | st.lists(_ANY_TEXTS, max_size=2), max_size=2
)


@st.composite
def _deep_json(draw: st.DrawFn) -> bytes:
    """A chain of lists and objects about as deep as the limit, some levels with siblings full of
    brackets, escaped quotes, backslashes and non-ASCII text, written raw (UTF-8) or as \\u escapes."""
    depth = draw(st.integers(MAX_DEPTH - 4, MAX_DEPTH + 2) | st.integers(0, MAX_DEPTH + 8))
    objects = draw(st.integers(0, 2**depth - 1))
    key = draw(_ANY_TEXTS)
    levels = st.integers(0, min(depth, 4)) | st.integers(0, depth)
    crowded = draw(st.dictionaries(levels, _SIBLINGS, max_size=6))
    value = draw(_JSON)
    for level in range(depth):
        siblings = crowded.get(level, [])
        if objects >> level & 1:
            value = {**{f"{key}{n}": sibling for n, sibling in enumerate(siblings)}, key: value}
        else:
            value = [*siblings, value] if level % 2 else [value, *siblings]
    if draw(st.booleans()):
        return orjson.dumps(value)
    return json.dumps(value, ensure_ascii=draw(st.booleans()), indent=draw(st.none() | st.just(1))).encode()


@given(_deep_json())
def test_deep_json_with_escapes_and_non_ascii_agrees_with_a_scan_one_character_at_a_time(text: bytes) -> None:
    """Wrapped to just below and just above the limit, so any miscount of the deepest part shows."""
    wrapping = max(0, MAX_DEPTH - _scanned_depth(text))
    for wrapped in (
        b"[" * wrapping + text + b"]" * wrapping,
        b"[" * (wrapping + 1) + text + b"]" * (wrapping + 1),
    ):
        assert exceeds_depth(wrapped) == (_scanned_depth(wrapped) > MAX_DEPTH)


@given(_deep_json())
def test_bytearray_and_memoryview_are_read_as_bytes_are(text: bytes) -> None:
    expected = exceeds_depth(text)
    assert exceeds_depth(bytearray(text)) == expected
    assert exceeds_depth(memoryview(text)) == expected


def test_a_memoryview_is_read_from_where_it_starts_to_where_it_ends() -> None:
    inside = nested_lists(MAX_DEPTH)
    padded = memoryview(b"[[" + inside + b"]]")
    assert exceeds_depth(padded)
    assert not exceeds_depth(padded[2:-2])


def test_a_string_holding_a_json_document_does_not_count() -> None:
    document = orjson.dumps(["\\", '"', "[" * 10])
    for _ in range(4):
        document = orjson.dumps([document.decode()])
    assert _scanned_depth(document) == 1
    assert not exceeds_depth(b"[" * (MAX_DEPTH - 1) + document + b"]" * (MAX_DEPTH - 1))
    assert exceeds_depth(b"[" * MAX_DEPTH + document + b"]" * MAX_DEPTH)


def test_text_is_refused_because_only_bytes_have_a_known_encoding() -> None:
    with pytest.raises(TypeError, match="bytes-like"):
        exceeds_depth("[]")  # type: ignore[arg-type]


def test_the_answer_does_not_depend_on_where_strings_and_escapes_fall_in_the_text() -> None:
    """Long texts are read 64 bytes at a time: strings, escapes and brackets cross every offset."""
    hostile = orjson.dumps(["\\", '"[', '\\\\"{', "x" * 70 + '"]\\', "é" * 40])
    for offset in range(130):
        for wrapping in (MAX_DEPTH - 1, MAX_DEPTH):
            text = b" " * offset + b"[" * wrapping + hostile + b"]" * wrapping
            assert exceeds_depth(text) == (_scanned_depth(text) > MAX_DEPTH)
