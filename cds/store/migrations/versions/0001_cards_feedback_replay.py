"""Issued cards, feedback and used JWT ids: the store as the service first kept it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cds.store.schema import Id, UtcTimestamp

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "issued_card",
        sa.Column("uuid", sa.Text, primary_key=True),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("rule_version", sa.Text, nullable=False),
        sa.Column("rules_version", sa.Text, nullable=False),
        sa.Column("indicator", sa.Text, nullable=False),
        sa.Column("hook_instance", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("issued_at", UtcTimestamp, nullable=False),
    )
    op.create_index("ix_issued_card_issued_at", "issued_card", ["issued_at"])
    op.create_table(
        "feedback",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("card_uuid", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("accepted_suggestions", sa.Text),
        sa.Column("override_system", sa.Text),
        sa.Column("override_code", sa.Text),
        sa.Column("override_display", sa.Text),
        sa.Column("override_comment", sa.Text),
        sa.Column("outcome_timestamp", UtcTimestamp, nullable=False),
        sa.Column("received_at", UtcTimestamp, nullable=False),
    )
    op.create_index("ix_feedback_card_uuid", "feedback", ["card_uuid"])
    op.create_index("ix_feedback_received_at", "feedback", ["received_at"])
    op.create_table(
        "used_jti",
        sa.Column("iss", sa.Text, primary_key=True),
        sa.Column("jti", sa.Text, primary_key=True),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_index("ix_used_jti_expires", "used_jti", ["expires"])


def downgrade() -> None:
    op.drop_table("used_jti")
    op.drop_table("feedback")
    op.drop_table("issued_card")
