"""The tables, once, for every SQL backend: queries are built from these, migrations must arrive at them.

`tests/store` compares a freshly migrated database with this metadata on SQLite and on PostgreSQL,
so a migration that drifts from the code fails the suite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcTimestamp(TypeDecorator[dt.datetime]):
    """TIMESTAMP WITH TIME ZONE on PostgreSQL; ISO-8601 UTC text on SQLite, which sorts as time does."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        utc = value.astimezone(dt.UTC)
        return utc.isoformat() if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(moment, dt.datetime)
        return moment.astimezone(dt.UTC)


Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite's auto-increment needs INTEGER PRIMARY KEY exactly; PostgreSQL gets a 64-bit identity."""

METADATA = sa.MetaData()

issued_card = sa.Table(
    "issued_card",
    METADATA,
    sa.Column("uuid", sa.Text, primary_key=True),
    sa.Column("rule_id", sa.Text, nullable=False),
    sa.Column("rule_version", sa.Text, nullable=False),
    sa.Column("rules_version", sa.Text, nullable=False),
    sa.Column("indicator", sa.Text, nullable=False),
    sa.Column("hook_instance", sa.Text, nullable=False),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("issued_at", UtcTimestamp, nullable=False, index=True),
)

feedback = sa.Table(
    "feedback",
    METADATA,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("card_uuid", sa.Text, nullable=False, index=True),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("accepted_suggestions", sa.Text),
    sa.Column("override_system", sa.Text),
    sa.Column("override_code", sa.Text),
    sa.Column("override_display", sa.Text),
    sa.Column("override_comment", sa.Text),
    sa.Column("outcome_timestamp", UtcTimestamp, nullable=False),
    sa.Column("received_at", UtcTimestamp, nullable=False, index=True),
)

used_jti = sa.Table(
    "used_jti",
    METADATA,
    sa.Column("iss", sa.Text, primary_key=True),
    sa.Column("jti", sa.Text, primary_key=True),
    sa.Column("expires", sa.Float, nullable=False, index=True),
)

audit_call = sa.Table(
    "audit_call",
    METADATA,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("called_at", UtcTimestamp, nullable=False, index=True),
    sa.Column("issuer", sa.Text),
    sa.Column("user_id", sa.Text, nullable=False, index=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("hook_instance", sa.Text, nullable=False),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("rules_version", sa.Text, nullable=False),
    sa.Column("rule_ids", sa.Text, nullable=False),
)

shadow_call = sa.Table(
    "shadow_call",
    METADATA,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("called_at", UtcTimestamp, nullable=False, index=True),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("hook_instance", sa.Text, nullable=False),
    sa.Column("live_rules_version", sa.Text, nullable=False),
    sa.Column("candidate_rules_version", sa.Text, nullable=False),
)

shadow_card = sa.Table(
    "shadow_card",
    METADATA,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("call_id", Id, sa.ForeignKey("shadow_call.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("rule_id", sa.Text, nullable=False),
    sa.Column("rule_version", sa.Text, nullable=False),
    sa.Column("indicator", sa.Text, nullable=False),
    sa.Column("uuid", sa.Text, index=True),
)

shadow_pair = sa.Table(
    "shadow_pair",
    METADATA,
    sa.Column("live_rules_version", sa.Text, primary_key=True),
    sa.Column("candidate_rules_version", sa.Text, primary_key=True),
    sa.Column("diff", sa.Text, nullable=False),
    sa.Column("recorded_at", UtcTimestamp, nullable=False),
)
