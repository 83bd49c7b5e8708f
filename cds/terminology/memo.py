"""A bounded memo for pure look-ups that a chart repeats (the same code, the same words, many times)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class Memo(Generic[K, V]):
    """Results of a pure function by key, at most `limit` of them: when full, all are forgotten, so a
    stream of new keys costs memory once and a repeated key costs one dict look-up. Safe across
    threads: a race computes the same value twice."""

    __slots__ = ("_limit", "_values")

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._values: dict[K, V] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        found = self._values.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        value = compute()
        if len(self._values) >= self._limit:
            self._values = {}
        self._values[key] = value
        return value
