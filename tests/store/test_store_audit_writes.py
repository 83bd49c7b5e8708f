"""The audit writer's batches on the SQL databases: each batch is kept whole or not at all, in the order the
calls happened, and a database that fails says which database and why."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from cds.store import AuditRecord, IssuedCard, SqlStore, StoreUnavailable, open_store
from cds.store.schema import audit_call, issued_card

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
CALL = AuditRecord(NOW, None, "Practitioner/1", "pat-1", "hook-1", "svc", "rules-v1", ("rule-a",))
CARD = IssuedCard("c-1", "rule-a", "1.0.0", "rules-v1", "warning", "hook-1", "svc", NOW)


def _drop_issued_cards(store: SqlStore) -> None:
    with store.database.durable() as connection:
        connection.exec_driver_sql("DROP TABLE issued_card")


def test_a_batch_whose_cards_cannot_be_written_leaves_no_call_in_the_trail(sql_store: SqlStore) -> None:
    _drop_issued_cards(sql_store)
    with pytest.raises(Exception, match="issued_card"):
        sql_store.record_calls([CALL], [CARD])
    assert sql_store.calls() == []


def test_a_failed_batch_on_sqlite_is_store_unavailable_naming_the_database(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'cds.sqlite3'}")
    _drop_issued_cards(store)
    with pytest.raises(StoreUnavailable, match=r"cds\.sqlite3: no such table: issued_card"):
        store.record_calls([CALL], [CARD])
    store.close()


def test_calls_given_in_other_time_zones_are_listed_in_the_order_they_happened(sql_store: SqlStore) -> None:
    later_given_at_minus_five = NOW.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    earlier_given_in_utc = NOW - dt.timedelta(hours=1)
    sql_store.record_calls(
        [
            dataclasses.replace(CALL, called_at=later_given_at_minus_five),
            dataclasses.replace(CALL, called_at=earlier_given_in_utc),
        ]
    )
    assert [call.called_at for call in sql_store.calls()] == [earlier_given_in_utc, NOW]


def _rows(store: SqlStore, table: sa.Table) -> list[tuple[object, ...]]:
    with store.database.fast() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {table.name}")]


def test_the_driver_writes_the_rows_sqlalchemy_would_write(sql_store: SqlStore) -> None:
    other_zone = dataclasses.replace(CALL, called_at=NOW.astimezone(dt.timezone(dt.timedelta(hours=2))))
    sql_store.record_calls([CALL, other_zone], [CARD])
    driver_rows = (_rows(sql_store, audit_call), _rows(sql_store, issued_card))
    with sql_store.database.fast() as connection:
        connection.execute(audit_call.delete())
        connection.execute(issued_card.delete())
        connection.execute(
            audit_call.insert(),
            [{**vars(call), "rule_ids": '["rule-a"]'} for call in (CALL, other_zone)],
        )
        connection.execute(issued_card.insert(), [vars(CARD)])
    sqlalchemy_rows = (_rows(sql_store, audit_call), _rows(sql_store, issued_card))
    assert [row[1:] for row in driver_rows[0]] == [row[1:] for row in sqlalchemy_rows[0]]
    assert driver_rows[1] == sqlalchemy_rows[1]


def test_a_batch_after_a_failed_one_is_kept(sql_store: SqlStore) -> None:
    with pytest.raises(Exception, match="issued_at"):
        sql_store.record_calls([CALL], [dataclasses.replace(CARD, issued_at=None)])  # type: ignore[arg-type]
    sql_store.record_calls([CALL], [CARD])
    assert sql_store.calls() == [CALL]
