"""The audit trail: one row per hook call, for "who was shown what, about whom"."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cds.store.schema import Id, UtcTimestamp

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "audit_call",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("called_at", UtcTimestamp, nullable=False),
        sa.Column("issuer", sa.Text),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("patient_id", sa.Text, nullable=False),
        sa.Column("hook_instance", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("rules_version", sa.Text, nullable=False),
        sa.Column("rule_ids", sa.Text, nullable=False),
    )
    for column in ("called_at", "user_id", "patient_id"):
        op.create_index(f"ix_audit_call_{column}", "audit_call", [column])


def downgrade() -> None:
    op.drop_table("audit_call")
