"""Alembic migrations of the store, the same for SQLite and PostgreSQL (run by `cds.store.migrate`)."""
