"""`parse_when` reads the common forms by shortcut; every string must read as the general way reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds.facts.dates import parse_when, read_generally

_DIGITS = st.sampled_from("0123456789")
_ODD = st.sampled_from("0123456789-+:TZW ٣２.")
"""ASCII digits, separators, a week-date W, a space, and digits of other scripts (Arabic-Indic, fullwidth)."""


def _shaped(template: str) -> st.SearchStrategy[str]:
    """Strings shaped like `template` (d: a digit, ?: any odd character, others as written)."""
    parts = [_DIGITS if c == "d" else _ODD if c == "?" else st.just(c) for c in template]
    return st.tuples(*parts).map("".join)


@given(
    st.one_of(
        _shaped("dddd-dd-dd"),
        _shaped("dddd?dd?dd"),
        _shaped("??????????"),
        _shaped("dddd-dd-ddTdd:dd:ddZ"),
        _shaped("dddd-dd-ddTdd:dd:dd+dd:dd"),
        _shaped("dddd-dd-ddTdd:dd:dd?dd?dd"),
        st.text(max_size=26),
    )
)
def test_a_date_read_by_shortcut_reads_as_the_general_way_reads_it(value: str) -> None:
    assert parse_when(value) == read_generally(value)


@pytest.mark.parametrize(
    "value",
    ["2026-11-20", "2026-02-30", "2026-13-01", "0000-01-01", "2026-W47-5", "2026-11-2 ", "٢٠٢٦-١١-٢٠"],
)
def test_plain_dates_valid_invalid_and_unusual_read_as_the_general_way(value: str) -> None:
    assert parse_when(value) == read_generally(value)
