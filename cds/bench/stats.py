"""Percentiles by nearest rank: with a few hundred samples, interpolating would only pretend to precision."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0 < q <= 100) of samples sorted in ascending order; 0.0 when there are none."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
