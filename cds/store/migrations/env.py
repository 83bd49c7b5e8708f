"""Runs the migrations on the connection `cds.store.migrate` hands over, inside its locked transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cds.store.schema import METADATA

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection)
context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
