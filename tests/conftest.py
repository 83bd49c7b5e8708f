"""Shared fixtures: the shipped rulebook and one evaluator (an engine is built once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer

from cds.evaluation import Evaluator
from cds.rulebook import Rulebook, load_rulebook
from cds.testing.profiles import load_profile

load_profile()  # hypothesis profile: $HYPOTHESIS_PROFILE (fast by default, thorough for nightly runs)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return load_rulebook()


@pytest.fixture(scope="session")
def evaluator(rulebook: Rulebook) -> Evaluator:
    return Evaluator(rulebook)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real FHIR data nobody here wrote (../shared/data beside the repository)."""
    path = REPO.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path}")
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started on first use; tests take a fresh database each."""
    server = PostgresServer().start()
    yield server
    server.stop()
