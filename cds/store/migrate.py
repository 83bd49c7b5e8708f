"""Brings a database to the schema this code expects, under a lock, so instances starting together agree.

A database already at the newest revision is recognised by one query, and an empty one gets the tables
straight from `cds.store.schema`, stamped with the newest revision: the migrations arrive at the same
tables (tests/store compare the two on SQLite and PostgreSQL). Alembic, whose import and migration run
took most of a fresh start-up's database time, is imported only for a database at an older revision.

A database already migrated further than this code knows is refused: an older instance must not
write to tables it does not understand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cds.store.database import Database
from cds.store.protocols import StoreUnavailable
from cds.store.schema import METADATA

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = "cds.store:migrations"
HEAD = "0003"
"""The newest migration's revision; tests/store check that it is the head of the scripts."""

_VERSIONS = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
"""Alembic's own version table, as Alembic creates it, so that later migrations find the stamp."""


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPTS)
    return config


def head_revision() -> str:
    """The head of the migration scripts, read by Alembic."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def upgrade(database: Database) -> None:
    """Raises StoreUnavailable for a database newer than this code, or one that cannot be reached."""
    with database.migrating() as connection:
        tables = sa.inspect(connection).get_table_names()
        if not tables:
            METADATA.create_all(connection)
            _VERSIONS.create(connection)
            connection.execute(_VERSIONS.insert(), {"version_num": HEAD})
            return
        if _VERSIONS.name in tables:
            stamped = connection.execute(sa.select(_VERSIONS.c.version_num)).scalars().all()
            if stamped == [HEAD]:
                return
        migrate(database, connection)


def migrate(database: Database, connection: Connection, target: str = "head") -> None:
    """Runs the migrations from the database's revision to `target`, on `connection` (which holds the
    migration lock); refuses a revision the scripts do not know."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _config()
    script = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise StoreUnavailable(
            f"database {database.describe()} has schema version {current}, newer than this "
            f"spasm-cds knows ({script.get_current_head()}): upgrade spasm-cds on this instance"
        )
    config.attributes["connection"] = connection
    command.upgrade(config, target)
