"""FHIR data types as real systems write them: codings with and without display, dates in every precision.

These are draw helpers (`draw_*(draw, ...)`) used inside composite strategies. They only draw from
strategies built once (module constants or cached), because building hypothesis strategies inside every
draw costs far more than drawing: a record would take tens of milliseconds instead of a few.
Dates are drawn relative to a `now` the caller gives, in days before it, so the same helper yields data
inside and outside any time window.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from cds.testing.space import Code

UCUM = "http://unitsofmeasure.org"
JsonObject = dict[str, Any]
T = TypeVar("T")

FHIR_IDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", min_size=1, max_size=24
)
"""Logical ids as servers mint them (FHIR allows A-Z a-z 0-9 - . up to 64 characters)."""
BOOLEANS = st.booleans()
_ZONES = (None, -5, 2, 10)
_PATIENT_REFERENCES = (
    "Patient/{id}",
    "https://ehr.example.org/fhir/Patient/{id}",
    "Patient/{id}/_history/3",
)


@functools.lru_cache(maxsize=512)
def integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def pick(draw: st.DrawFn, items: Sequence[T]) -> T:
    """One of `items`, shrinking towards the first."""
    if not items:
        raise ValueError("nothing to pick from")
    return items[draw(integers(0, len(items) - 1))]


def chance(draw: st.DrawFn) -> bool:
    return draw(BOOLEANS)


def draw_coding(draw: st.DrawFn, code: Code) -> JsonObject:
    """The coding of `code`, its system in any spelling the rules accept (URI or OID), with or without
    its display; ICD codes with or without the dot, and a prefix code with a more specific tail."""
    written = code.code
    if code.dotted:
        written = pick(draw, [written, written.replace(".", "")])
        if code.prefix:
            written += pick(draw, ["", "0", "1", "9"])
    system = pick(draw, code.spellings or (code.system,))
    coding: JsonObject = {"system": system, "code": written}
    if chance(draw):
        coding["display"] = code.display
    return coding


def draw_codeable_concept(draw: st.DrawFn, code: Code) -> JsonObject:
    concept: JsonObject = {"coding": [draw_coding(draw, code)]}
    if chance(draw):
        concept["text"] = code.display
    return concept


def draw_moment(draw: st.DrawFn, now: dt.datetime, low_days: int, high_days: int) -> dt.datetime:
    """An instant between `high_days` and `low_days` days before `now` (negative: after it)."""
    base = now.astimezone(dt.UTC).replace(microsecond=0)
    days = draw(integers(low_days, high_days))
    return base - dt.timedelta(days=days, seconds=draw(integers(0, 86_399)))


def draw_when(draw: st.DrawFn, now: dt.datetime, window: int, *, current: bool) -> dt.datetime:
    """A moment inside a window of `window` days before `now`; unless `current`, also past it or a little
    in the future."""
    if current:
        return draw_moment(draw, now, 0, window)
    return draw_moment(draw, now, *pick(draw, [(0, window), (window + 1, 3 * window + 30), (-5, -1)]))


def draw_instant(draw: st.DrawFn, moment: dt.datetime) -> str:
    """A FHIR instant: always to the second and with a zone."""
    hours = pick(draw, _ZONES)
    if hours is None:
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(dt.timezone(dt.timedelta(hours=hours))).isoformat()


def draw_date_time(draw: st.DrawFn, moment: dt.datetime) -> str:
    """A FHIR dateTime for `moment`: a date alone, or to the second with a zone."""
    if chance(draw):
        return moment.astimezone(dt.UTC).date().isoformat()
    return draw_instant(draw, moment)


def draw_quantity(draw: st.DrawFn, value: float, spelling: str, unit: str) -> JsonObject:
    """A Quantity in a unit spelt `spelling` (meaning UCUM `unit`): unit text only, coded, or both."""
    shapes: list[JsonObject] = [{"value": value, "unit": spelling}]
    if spelling == unit:
        shapes.append({"value": value, "system": UCUM, "code": unit})
    shapes.append({"value": value, "unit": spelling, "system": UCUM, "code": unit})
    return pick(draw, shapes)


def draw_patient_reference(draw: st.DrawFn, patient_id: str) -> JsonObject:
    """A reference to the patient, relative, absolute or versioned, the way different servers write it."""
    return {"reference": pick(draw, _PATIENT_REFERENCES).format(id=patient_id)}
