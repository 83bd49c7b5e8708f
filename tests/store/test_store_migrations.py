"""Schema versions: the migrations build exactly the tables the code uses, on both SQL backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from postgres_server import PostgresServer

from cds.store import AuditRecord, StoreUnavailable, open_store
from cds.store.migrate import head_revision
from cds.store.schema import METADATA

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cds.sqlite3'}"
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return postgres.new_database()


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def test_a_migrated_database_matches_the_schema_the_code_uses(database_url: str) -> None:
    open_store(database_url).close()
    engine = _engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), METADATA)
        version = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    assert (differences, version) == ([], head_revision())


def test_reopening_a_migrated_database_keeps_its_data(database_url: str) -> None:
    first = open_store(database_url)
    first.record_calls([AuditRecord(NOW, None, "Practitioner/1", "pat-1", "hook-1", "svc", "v1", ())])
    first.close()
    again = open_store(database_url)
    assert [call.patient_id for call in again.calls()] == ["pat-1"]
    again.close()


def test_a_database_migrated_by_a_newer_version_is_refused(database_url: str) -> None:
    open_store(database_url).close()
    engine = _engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreUnavailable, match="schema version 9999, newer than this spasm-cds knows"):
        open_store(database_url)


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://cds:s3cret@/cds?host={tmp_path}"
    with pytest.raises(StoreUnavailable) as raised:
        open_store(url)
    assert "s3cret" not in str(raised.value) and "***" in str(raised.value)
