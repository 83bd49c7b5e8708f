"""Structured JSON logs, one object per line, that can be shipped anywhere without leaking patient data.

Only fields passed explicitly under `extra={"fields": ...}` are written, so a token or a clinical value
can reach the log only by someone naming it. Exception messages are left out of tracebacks for the
same reason (they may quote input); the exception type and stack are enough to find the bug.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
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
        entry: dict[str, Any] = {
            "time": self._utc_milliseconds(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_fields.get()
        if current is not None and "request_id" in current:
            entry["request_id"] = current["request_id"]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = _type_and_stack(record.exc_info[1])
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


def _type_and_stack(error: BaseException) -> str:
    stack = "".join(traceback.TracebackException.from_exception(error).stack.format())
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}\n{stack}".rstrip()


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig for uvicorn and the service alike, so every line on stderr is JSON."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
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
