"""Schema versions: the migrations build exactly the tables the code uses, on both SQL backends, and a fresh
database created from the schema is the database the migrations would have built."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from postgres_server import PostgresServer

from cds.store import AuditRecord, StoreUnavailable, open_store
from cds.store.database import open_database
from cds.store.migrate import HEAD, head_revision, migrate
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


def _migrated(url: str, revision: str = "head") -> None:
    """Runs the migration scripts on an empty database, as an older spasm-cds would have."""
    database = open_database(url)
    with database.migrating() as connection:
        migrate(database, connection, revision)
    database.close()


def _differences_and_version(url: str) -> tuple[list[Any], str | None]:
    engine = _engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), METADATA)
        version = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return differences, version


def _tables(url: str) -> dict[str, dict[str, Any]]:
    """Every table as the database describes it: columns, keys, indexes, foreign keys."""
    engine = _engine(url)
    inspector = sa.inspect(engine)
    tables = {
        name: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(name)
            ],
            "primary key": inspector.get_pk_constraint(name),
            "indexes": sorted(
                (i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(name)
            ),
            "foreign keys": inspector.get_foreign_keys(name),
        }
        for name in inspector.get_table_names()
    }
    engine.dispose()
    return tables


def test_the_migrations_build_the_schema_the_code_uses(database_url: str) -> None:
    _migrated(database_url)
    assert _differences_and_version(database_url) == ([], head_revision())


def test_a_fresh_database_is_created_as_the_migrations_would_build_it(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database_url.startswith("sqlite"):
        migrated_url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres")
        migrated_url = postgres.new_database()
    _migrated(migrated_url)
    open_store(database_url).close()
    assert _differences_and_version(database_url) == ([], head_revision())
    assert _tables(database_url) == _tables(migrated_url)


def test_the_revision_recognised_without_alembic_is_the_head_of_the_migrations() -> None:
    assert head_revision() == HEAD


def test_a_database_at_an_older_revision_is_migrated_to_the_head(database_url: str) -> None:
    _migrated(database_url, "0002")
    open_store(database_url).close()
    assert _differences_and_version(database_url) == ([], head_revision())


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
