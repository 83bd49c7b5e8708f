"""Runs the migrations on the connection `cds.store.migrate` hands over, inside its locked transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cds.store.schema import METADATA


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file inside its migration environment; imported anywhere else it does nothing.
if hasattr(context, "config"):
    _migrate(context.config.attributes["connection"])
