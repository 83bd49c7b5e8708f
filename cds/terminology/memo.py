"""A bounded memo for pure look-ups that a chart repeats (the same code, the same words, many times)."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()
_NONE_FOR_NONE: dict[object, None] = {None: None}


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

    def get_each(self, keys: Sequence[K | None]) -> list[V | None]:
        """`get` of every key, None for a None key: keys seen before cost one look-up done in C."""
        values: dict[K | None, V] = self._values  # type: ignore[assignment]
        defaults = map(_NONE_FOR_NONE.get, keys, itertools.repeat(_MISSING))
        found: list[V | object] = list(map(values.get, keys, defaults))
        if any(map(operator.is_, found, itertools.repeat(_MISSING))):
            found = [
                self.get(key) if value is _MISSING else value  # type: ignore[arg-type]
                for key, value in zip(keys, found, strict=True)
            ]
        return found  # type: ignore[return-value]
