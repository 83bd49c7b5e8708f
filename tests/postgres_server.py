"""A real PostgreSQL server for the tests: a throw-away cluster on a unix socket, no TCP port.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user (created by
Debian's package, which `make test` installs when it is missing). fsync is off: the tests check
behaviour, not crash safety, and a fresh database per test stays cheap.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

INSTALL_HINT = "PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)"


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            raise RuntimeError(INSTALL_HINT)
        self._bin = binaries
        self._root = Path(tempfile.mkdtemp(prefix="cds-pg-"))
        self.socket_dir = self._root / "socket"
        self._data = self._root / "data"
        self._names = itertools.count(1)
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        self.socket_dir.mkdir()
        if self._as_postgres:
            shutil.chown(self._root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run("initdb", "-D", str(self._data), "-A", "trust", "-U", "cds", "--no-sync")
        options = f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c max_connections=200"
        self._run(
            "pg_ctl", "-D", str(self._data), "-l", str(self._root / "log"), "-o", options, "-w", "start"
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://cds@/{database}?host={self.socket_dir}"

    def _admin(self, statement: str) -> None:
        with psycopg.connect(f"host={self.socket_dir} user=cds dbname=postgres", autocommit=True) as db:
            db.execute(statement)  # type: ignore[arg-type]

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drops it under the feet of whoever is connected: the database is gone, as in an outage."""
        self._admin(f"DROP DATABASE {make_url(url).database} WITH (FORCE)")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self._root, ignore_errors=True)
