"""One module per schema version. A new one names the last as `down_revision` and must arrive at
`cds.store.schema` exactly: `tests/store/test_store_migrations.py` compares both backends with it."""
