"""Benchmark fixtures: the Synthea charts and request bodies built from them, once per session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cds.bench.workload import BenchRequest, ChartLibrary, build_workload

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def synthea(shared_data: Path) -> Path:
    return shared_data / "synthea-r4"


@pytest.fixture(scope="session")
def workload(synthea: Path) -> dict[int, list[BenchRequest]]:
    return build_workload(ChartLibrary(synthea), (10, 100), variants=4, today=TODAY)
