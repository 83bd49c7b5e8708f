"""The access log's time and request id are written as `datetime` and `uuid` write them, more cheaply."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from cds.service.logging import JsonFormatter
from cds.service.middleware import new_request_id

SINCE_1970_TO_2100 = st.floats(min_value=0.0, max_value=4.1e9, allow_nan=False)


@given(SINCE_1970_TO_2100)
@example(1e9 + 0.0009995)
@example(1e9 + 0.9999996)
@example(1e9 + 0.0004999)
def test_a_log_line_time_is_the_utc_isoformat_to_the_millisecond(created: float) -> None:
    record = logging.LogRecord("cds.test", logging.INFO, __file__, 1, "hello", None, None)
    record.created = created
    line = orjson.loads(JsonFormatter().format(record))
    assert line["time"] == dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds")


def test_one_formatter_writes_each_second_of_its_lines_right() -> None:
    formatter = JsonFormatter()
    for created in (1e9 + 0.5, 1e9 + 0.7, 1e9 + 1.2, 1e9 + 0.9):
        record = logging.LogRecord("cds.test", logging.INFO, __file__, 1, "hello", None, None)
        record.created = created
        expected = dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds")
        assert orjson.loads(formatter.format(record))["time"] == expected


@given(st.binary(min_size=16, max_size=16))
@example(b"\xff" * 16)
@example(b"\x00" * 16)
def test_a_new_request_id_is_the_hex_of_a_version_4_uuid(random: bytes) -> None:
    assert new_request_id(random) == uuid.UUID(bytes=random, version=4).hex
