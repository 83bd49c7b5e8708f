"""`log_info` writes the line `logger.info` would, without a LogRecord only where nothing but the
service's JSON handler would see that record."""

from __future__ import annotations

import importlib
import io
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from cds.service.logging import JsonFormatter, JsonLines, log_info, logging_config, request_fields

FIELDS = {"event": "request", "status": 200, "rule_ids": ["spasm-red-flag"], "duration_ms": 1.25}


@pytest.fixture
def configured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger under a parent configured as the service configures `cds`, writing to a string."""
    stream = io.StringIO()
    parent = logging.getLogger("cds-log-lines-test")
    handler = JsonLines(stream)
    handler.setFormatter(JsonFormatter())
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    parent.propagate = False
    try:
        yield logging.getLogger("cds-log-lines-test.http"), stream
    finally:
        parent.removeHandler(handler)
        parent.propagate = True


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def _as_logger_info_writes(logger: logging.Logger, fields: dict[str, Any]) -> dict[str, Any]:
    record = logger.makeRecord(
        logger.name, logging.INFO, "", 0, "request", (), None, extra={"fields": fields}
    )
    line: dict[str, Any] = orjson.loads(JsonFormatter().format(record))
    return line


def test_the_line_written_without_a_record_is_the_line_of_the_record(
    configured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = configured
    token = request_fields.set({"request_id": "req-7"})
    try:
        log_info(logger, "request", FIELDS)
        expected = _as_logger_info_writes(logger, FIELDS)
    finally:
        request_fields.reset(token)
    [written] = _lines(stream)
    assert {k: v for k, v in written.items() if k != "time"} == {
        k: v for k, v in expected.items() if k != "time"
    }
    assert written["time"][:16] == expected["time"][:16] and written["time"].endswith("+00:00")


def test_a_filter_on_the_way_is_applied(configured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = configured
    handler = logging.getLogger("cds-log-lines-test").handlers[0]
    refuse = logging.Filter("somewhere-else")
    handler.addFilter(refuse)
    try:
        log_info(logger, "request", FIELDS)
    finally:
        handler.removeFilter(refuse)
    assert stream.getvalue() == ""


def test_another_handler_on_the_way_gets_the_record(configured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = configured
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keeper = Keep()
    logger.addHandler(keeper)
    try:
        log_info(logger, "request", FIELDS)
    finally:
        logger.removeHandler(keeper)
    assert [record.fields for record in seen] == [FIELDS]  # type: ignore[attr-defined]
    assert [line["status"] for line in _lines(stream)] == [200]


def test_below_its_level_nothing_is_written(configured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = configured
    logger.setLevel(logging.WARNING)
    try:
        log_info(logger, "request", FIELDS)
    finally:
        logger.setLevel(logging.NOTSET)
    assert stream.getvalue() == ""


def test_a_stream_that_fails_is_reported_as_logging_reports_it_and_the_call_goes_on(
    configured: tuple[logging.Logger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, stream = configured
    handler = logging.getLogger("cds-log-lines-test").handlers[0]
    reported: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", reported.append)
    stream.close()
    log_info(logger, "request", FIELDS)
    assert [record.getMessage() for record in reported] == ["request"]


def test_the_service_logs_through_the_handler_that_writes_without_records() -> None:
    config = logging_config("info")
    handler = config["handlers"]["stderr"]
    module, _, name = handler["class"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is JsonLines
    assert config["loggers"]["cds"]["handlers"] == ["stderr"]
    assert config["formatters"][handler["formatter"]]["()"].endswith(".JsonFormatter")
