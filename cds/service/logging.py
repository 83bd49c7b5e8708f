"""Structured JSON logs, one object per line, that can be shipped anywhere without leaking patient data.

Only fields passed explicitly under `extra={"fields": ...}` are written, so a token or a clinical value
can reach the log only by someone naming it. Exception messages are left out of tracebacks for the
same reason (they may quote input); the exception type and stack are enough to find the bug.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import traceback
from contextvars import ContextVar
from typing import Any

import orjson

LOGGER_NAME = "cds"

request_fields: ContextVar[dict[str, Any] | None] = ContextVar("request_fields", default=None)
"""The fields of the request being served; handlers add to them, the access log line writes them."""


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


def annotate(**fields: Any) -> None:
    """Adds fields to the current request's log line (service, hook instance, rule ids, ...)."""
    current = request_fields.get()
    if current is not None:
        current.update(fields)


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")
        """The last whole second and its text, one attribute so that threads never pair one with another's."""

    def format(self, record: logging.LogRecord) -> str:
        exception = None
        if record.exc_info and record.exc_info[1] is not None:
            exception = _type_and_stack(record.exc_info[1])
        fields = getattr(record, "fields", None)
        return self.line(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            fields if isinstance(fields, dict) else None,
            exception,
        )

    def line(
        self,
        created: float,
        level: str,
        logger: str,
        message: str,
        fields: dict[str, Any] | None,
        exception: str | None = None,
    ) -> str:
        """The line of a record with these attributes (`fields` from `extra`), with or without one."""
        entry: dict[str, Any] = {
            "time": self._utc_milliseconds(created),
            "level": level.lower(),
            "logger": logger,
            "message": message,
        }
        current = request_fields.get()
        if current is not None and "request_id" in current:
            entry["request_id"] = current["request_id"]
        if fields is not None:
            entry.update(fields)
        if exception is not None:
            entry["exception"] = exception
        return orjson.dumps(entry, default=str).decode()

    def _utc_milliseconds(self, created: float) -> str:
        """What `datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")` writes (rounded to
        the microsecond half to even, then cut to the millisecond), at a third of its cost: the text up to
        the second is made once a second (a JSON line per request pays for this)."""
        fraction, whole = math.modf(created)
        micro = round(fraction * 1e6)
        second = int(whole) + (micro >= 1_000_000)
        micro %= 1_000_000
        known, text = self._second
        if second != known:
            text = dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{text}.{micro // 1000:03d}+00:00"


class JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The service's handler: a StreamHandler that can also write a line without a LogRecord
    (`log_info`)."""

    def write_line(self, line: str) -> None:
        with self.lock:  # type: ignore[union-attr]
            self.stream.write(line + self.terminator)
            self.flush()


def log_info(logger: logging.Logger, message: str, fields: dict[str, Any]) -> None:
    """`logger.info(message, extra={"fields": fields})`, but where that record would reach nothing but
    one `JsonLines` handler with a `JsonFormatter` and no filter on the way (the service's logging
    configuration), its line is written without building the record: the access log writes one a
    request, and the record and its way through `logging` cost about as much as the line (measured)."""
    handler = _sole_json_handler(logger)
    if handler is None:
        if logger.isEnabledFor(logging.INFO):
            logger.handle(_record(logger, message, fields))
        return
    try:
        formatter = handler.formatter
        assert isinstance(formatter, JsonFormatter)
        handler.write_line(formatter.line(time.time(), "INFO", logger.name, message, fields))
    except RecursionError:
        raise
    except Exception:
        handler.handleError(_record(logger, message, fields))


def _record(logger: logging.Logger, message: str, fields: dict[str, Any]) -> logging.LogRecord:
    """As Logger.info makes it, minus its caller lookup (a stack walk): the JSON lines never show the
    file and line."""
    return logger.makeRecord(logger.name, logging.INFO, "", 0, message, (), None, extra={"fields": fields})


def _sole_json_handler(logger: logging.Logger) -> JsonLines | None:
    """The handler when an INFO record of `logger` would reach only it, and nothing on the way filters."""
    if not logger.isEnabledFor(logging.INFO):
        return None
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters or current.disabled:
            return None
        found += current.handlers
        current = current.parent if current.propagate else None
    if len(found) != 1:
        return None
    handler = found[0]
    if (
        type(handler) is not JsonLines
        or handler.filters
        or handler.level > logging.INFO
        or type(handler.formatter) is not JsonFormatter
    ):
        return None
    return handler


def _type_and_stack(error: BaseException) -> str:
    stack = "".join(traceback.TracebackException.from_exception(error).stack.format())
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}\n{stack}".rstrip()


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig for uvicorn and the service alike, so every line on stderr is JSON."""
    handler = {"class": f"{__name__}.JsonLines", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stderr": handler},
        "loggers": {
            LOGGER_NAME: {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
