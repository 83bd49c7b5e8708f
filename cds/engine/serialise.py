"""Order-preserving integer codes: the only values durable-rules ever parses.

durable-rules serialises facts and rule thresholds with `json.dumps`, and its C parser is corrupted by
floats written in exponent form without a decimal point (`5e-05`, `1e+16`) and by `NaN`/`Infinity`; it
also compares loosely across types (`"abc" >= 140`, `1 == true`). So no fact value and no threshold is
ever sent as written.

Representation: the thresholds of a ruleset are collected per type domain (number, string, bool) and
sorted with Python's own ordering. Threshold number i of a domain is sent as the odd integer 2i+1. A fact
value v is sent as 2p+1 when it equals threshold p, and otherwise as 2p, where p is how many thresholds
are below v. Then eq, ne, lt, le, gt and ge between any value and any threshold of the same domain give
exactly the Python answer: no rounding, no magnitude limit, and every number durable sees is a small
non-negative int that `json.dumps` writes as plain digits. The domain is part of the property name
(`n_dose`, `s_dose`, `b_dose`), so a test only ever sees values of its own type; a value of another type
behaves like an absent field. Non-finite numbers have no place in an order and are refused before coding.
"""

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from cds.engine.patterns import Scalar

_Ordered = TypeVar("_Ordered", str, float)


class Domain(StrEnum):
    """The type of a value; a test compares only within its own domain."""

    NUMBER = "n"
    STRING = "s"
    BOOL = "b"


def domain_of(value: Scalar) -> Domain:
    """bool is checked first because Python treats True as the int 1."""
    if isinstance(value, bool):
        return Domain.BOOL
    if isinstance(value, str):
        return Domain.STRING
    return Domain.NUMBER


def property_name(field: str, domain: Domain) -> str:
    """The durable property that holds `field` when its value is of `domain`."""
    return f"{domain}_{field}"


def _rank(table: tuple[_Ordered, ...], value: _Ordered) -> int:
    position = bisect_left(table, value)
    if position < len(table) and table[position] == value:
        return 2 * position + 1
    return 2 * position


def coded_row(fields: Iterable[tuple[int, str, tuple[Any, ...]]], values: Sequence[Scalar]) -> dict[str, int]:
    """For each field (its position in `values`, its property and the thresholds of its domain,
    `Codebook.thresholds`), its value coded: `_rank` of each, without a call a value (a call codes
    some thirty)."""
    row = {}
    for index, prop, table in fields:
        value = values[index]
        position = bisect_left(table, value)
        row[prop] = 2 * position + 1 if position < len(table) and table[position] == value else 2 * position
    return row


class Codebook:
    """The sorted thresholds of one ruleset, per domain; codes values against them."""

    def __init__(self, thresholds: Iterable[Scalar]) -> None:
        numbers: set[float] = set()
        strings: set[str] = set()
        bools: set[bool] = set()
        for value in thresholds:
            if isinstance(value, bool):
                bools.add(value)
            elif isinstance(value, str):
                strings.add(value)
            else:
                numbers.add(value)
        self._numbers = tuple(sorted(numbers))
        self._strings = tuple(sorted(strings))
        self._bools: tuple[float, ...] = tuple(sorted(bools))

    def thresholds(self, domain: Domain) -> tuple[Any, ...]:
        """The sorted thresholds of `domain`, the table `_rank` codes a value of it against."""
        if domain is Domain.BOOL:
            return self._bools
        return self._strings if domain is Domain.STRING else self._numbers

    def code(self, value: Scalar) -> int:
        """The integer durable compares in place of `value` (see the module docstring)."""
        if isinstance(value, bool):
            return _rank(self._bools, value)
        if isinstance(value, str):
            return _rank(self._strings, value)
        return _rank(self._numbers, value)
