"""JWT ids already used, shared by every worker process, so a token replayed to another worker is caught too.

SQLite in WAL mode without fsync: a process crash loses nothing (the data is in the OS already), a
power loss could forget the last few ids, which are tokens that expire within minutes anyway.
Entries are kept until their token expires (plus the clock skew), then purged.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

_PURGE_EVERY = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS used_jti (
    iss TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (iss, jti)
) WITHOUT ROWID
"""


class ReplayCache:
    def __init__(self, path: Path, keep_after_expiry: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.keep_after_expiry = keep_after_expiry
        self._db = sqlite3.connect(path, isolation_level=None, timeout=5.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(_SCHEMA)
        self._inserts = 0

    def first_use(self, iss: str, jti: str, expires: float) -> bool:
        """Records the id; False when it was already used by a token not yet purged."""
        cursor = self._db.execute(
            "INSERT INTO used_jti (iss, jti, expires) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (iss, jti, expires + self.keep_after_expiry),
        )
        self._inserts += 1
        if self._inserts % _PURGE_EVERY == 0:
            self._db.execute("DELETE FROM used_jti WHERE expires < ?", (time.time(),))
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()
