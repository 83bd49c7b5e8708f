"""Connections to the one database a deployment uses: SQLite embedded, or PostgreSQL shared by instances.

Writes come in two durabilities. `durable()` commits wait for the disk (feedback: a 200 promises the
entry is kept). `fast()` commits do not wait (issued cards, audit records, JWT ids): a process crash
loses nothing committed, a power cut may lose the last few. SQLite gets this from two connection pools
with `synchronous=FULL` and `NORMAL` in WAL mode, PostgreSQL from `synchronous_commit = off` per
transaction.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPICursor, Dialect
from sqlalchemy.pool import PoolProxiedConnection

from cds.store.protocols import StoreUnavailable

_MIGRATION_LOCK = 0x5C_D5_70_7E
"""PostgreSQL advisory lock key, so instances starting together migrate one at a time."""


class Database:
    def __init__(self, url: URL, durable: Engine, fast: Engine) -> None:
        self.url = url
        self._durable = durable
        self._fast = fast
        self._writer_lock = threading.Lock()
        self._writer: PoolProxiedConnection | None = None
        """SQLite: the connection `fast_cursor` keeps between transactions; a checkout from the pool and
        its return cost 16 µs of a batch's 175 (measured). PostgreSQL's go back, to be pinged before use."""

    @property
    def dialect(self) -> str:
        return self._fast.dialect.name

    @property
    def sa_dialect(self) -> Dialect:
        return self._fast.dialect

    def describe(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def durable(self) -> Iterator[Connection]:
        with self._unavailable_as_error(), self._durable.begin() as connection:
            yield connection

    @contextmanager
    def fast(self) -> Iterator[Connection]:
        with self._unavailable_as_error(), self._fast.begin() as connection:
            if self.dialect == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield connection

    @contextmanager
    def fast_cursor(self) -> Iterator[DBAPICursor]:
        """The driver's own cursor in one `fast()` transaction, for the audit writer's batches: through
        SQLAlchemy's transaction and statements a batch of three calls took 0.30 ms of CPU, against
        0.09 ms for the same work on the driver (measured on SQLite). One transaction at a time: on SQLite
        they would wait for the write lock anyway."""
        with self._unavailable_as_error(), self._writer_lock:
            connection = self._writer or self._fast.raw_connection()
            self._writer = None
            try:
                cursor = connection.cursor()
                if self.dialect == "postgresql":
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                else:
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                cursor.close()
                connection.commit()
            except BaseException:
                try:
                    connection.rollback()
                finally:
                    connection.close()
                raise
            if self.dialect == "postgresql":
                connection.close()
            else:
                self._writer = connection

    @contextmanager
    def migrating(self) -> Iterator[Connection]:
        """One transaction holding the database's migration lock (SQLite: its write lock)."""
        with self.durable() as connection:
            if self.dialect == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            yield connection

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            raise StoreUnavailable(f"database {self.describe()}: {reason}") from None
        except self._fast.dialect.loaded_dbapi.OperationalError as error:
            reason = str(error).strip().splitlines()[0] or type(error).__name__
            raise StoreUnavailable(f"database {self.describe()}: {reason}") from None

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self._durable.dispose()
        self._fast.dispose()


def open_database(url: str) -> Database:
    """Raises StoreUnavailable for a URL that names no supported database."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StoreUnavailable(
            "the database URL is not a URL: expected postgresql://user@host/db or sqlite:///path"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite(parsed)
    if backend in ("postgresql", "postgres"):
        return _postgres(parsed)
    shown = parsed.render_as_string(hide_password=True)
    raise StoreUnavailable(f"database {shown}: only postgresql:// and sqlite:/// are supported")


def _sqlite(url: URL) -> Database:
    if not url.database or url.database == ":memory:":
        raise StoreUnavailable("an SQLite database must be a file (sqlite:///path), shared by every worker")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return Database(url, _sqlite_engine(url, "FULL"), _sqlite_engine(url, "NORMAL"))


def _sqlite_engine(url: URL, synchronous: Literal["FULL", "NORMAL"]) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 10.0, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(connection: Any, _: Any) -> None:
        connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres(url: URL) -> Database:
    if importlib.util.find_spec("psycopg") is None:
        raise StoreUnavailable(
            "a PostgreSQL database needs the psycopg driver: pip install 'spasm-cds[postgres]'"
        )
    engine = sa.create_engine(
        url.set(drivername="postgresql+psycopg"), pool_pre_ping=True, pool_size=8, max_overflow=8
    )
    return Database(url, engine, engine)
