"""Brings a database to the schema this code expects, under a lock, so instances starting together agree.

A database already migrated further than this code knows is refused: an older instance must not
write to tables it does not understand.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cds.store.database import Database
from cds.store.protocols import StoreUnavailable

SCRIPTS = "cds.store:migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPTS)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def upgrade(database: Database) -> None:
    """Raises StoreUnavailable for a database newer than this code, or one that cannot be reached."""
    config = _config()
    script = ScriptDirectory.from_config(config)
    with database.migrating() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        if current == script.get_current_head():
            return
        if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
            raise StoreUnavailable(
                f"database {database.describe()} has schema version {current}, newer than this "
                f"spasm-cds knows ({script.get_current_head()}): upgrade spasm-cds on this instance"
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
