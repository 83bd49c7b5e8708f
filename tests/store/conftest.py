"""Every store behaviour is checked against each backend: in memory, SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer

from cds.store import MemoryStore, SqlStore, Store, open_store


def open_sql_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> SqlStore:
    """A fresh SQLite file or a fresh database on the test PostgreSQL server."""
    if kind == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'cds.sqlite3'}")
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return open_store(postgres.new_database())


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    kind = request.param
    opened: Store = MemoryStore() if kind == "memory" else open_sql_store(kind, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_sql_store(request.param, request, tmp_path)
    yield opened
    opened.close()
