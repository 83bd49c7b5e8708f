"""A bounded memo for pure look-ups that a chart repeats (the same code, the same words, many times)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class Memo(Generic[K, V]):
    """Results of a pure function of the key, at most `limit` of them: when full, all are forgotten,
    so a stream of new keys costs memory once and a repeated key costs one dict look-up (the function
    is given once, so a look-up builds no closure). Safe across threads: a race computes the same
    value twice."""

    __slots__ = ("_compute", "_limit", "_values")

    def __init__(self, compute: Callable[[K], V], limit: int = 4096) -> None:
        self._compute = compute
        self._limit = limit
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V:
        found = self._values.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        value = self._compute(key)
        if len(self._values) >= self._limit:
            self._values = {}
        self._values[key] = value
        return value
