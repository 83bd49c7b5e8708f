"""Every store behaviour is checked against each backend: in memory, SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer

from cds.store import MemoryStore, Store, open_store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'cds.sqlite3'}")
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres")
        opened = open_store(postgres.new_database())
    yield opened
    opened.close()
