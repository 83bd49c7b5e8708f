"""FHIR dates and dateTimes read leniently (partial dates, missing zones), always compared in UTC."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from cds.terminology.codeable import MAPPING

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def parse_when(value: object) -> dt.datetime | None:
    """The earliest instant a FHIR date/dateTime can mean; None for anything unreadable."""
    if not isinstance(value, str):
        return None
    if len(value) in _ZONED_LENGTHS and (zoned := _zoned(value)) is not None:
        return zoned
    if len(value) == _DAY_LENGTH and (day := _day(value)) is not None:
        return day
    return read_generally(value)


def read_generally(value: str) -> dt.datetime | None:
    """`parse_when` without its shortcuts for the common forms, which must agree with it."""
    match = _DATE.match(value.strip())
    if not match:
        return None
    parts = match.groupdict()
    try:
        moment = dt.datetime(
            int(parts["y"]),
            int(parts["m"] or 1),
            int(parts["d"] or 1),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or 0),
            tzinfo=dt.UTC,
        )
    except ValueError:
        return None
    tz = parts["tz"]
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        offset = dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        try:
            moment -= sign * offset
        except OverflowError:  # an instant before year 1 or after 9999 in UTC
            return None
    return moment


_ZONED_LENGTHS = frozenset({20, 25})
_ZONED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


def _zoned(value: str) -> dt.datetime | None:
    """The common full form (`2026-11-20T14:00:00+01:00`) read by the C parser; None to read it the
    general way (which also tells the invalid from the unusual, such as offsets of 24 hours or more)."""
    if _ZONED.fullmatch(value) is None:
        return None
    try:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


_DAY_LENGTH = 10


def _day(value: str) -> dt.datetime | None:
    """A plain date (`2026-11-20`, most of what charts write) read by the C parser, a third of the
    regular expression's time; None to read it the general way (which also tells the invalid from the
    unusual, such as digits of other scripts)."""
    if value[4] != "-" or value[7] != "-":
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _first(resource: Mapping[str, Any], *paths: str | tuple[str, str]) -> dt.datetime | None:
    """The first of the elements (`name`, or `(name, part)`) that holds a readable date."""
    for path in paths:
        if isinstance(path, str):
            value = resource.get(path)
        else:
            outer = resource.get(path[0])
            value = outer.get(path[1]) if isinstance(outer, MAPPING) else None
        if value is not None and (found := parse_when(value)) is not None:
            return found
    return None


def observed_at(resource: Mapping[str, Any]) -> dt.datetime | None:
    return _first(resource, "effectiveDateTime", ("effectivePeriod", "start"), "effectiveInstant", "issued")


def condition_onset(resource: Mapping[str, Any]) -> dt.datetime | None:
    return _first(resource, "onsetDateTime", ("onsetPeriod", "start"), "recordedDate")


def condition_abated(resource: Mapping[str, Any]) -> dt.datetime | None:
    return _first(resource, "abatementDateTime", ("abatementPeriod", "end"))


def medication_date(resource: Mapping[str, Any]) -> dt.datetime | None:
    return _first(resource, "authoredOn", "effectiveDateTime", ("effectivePeriod", "start"), "dateAsserted")


def days_between(earlier: dt.datetime, later: dt.datetime) -> int:
    return max(0, (later - earlier).days)
