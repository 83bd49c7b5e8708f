"""Shadow mode: one row per shadowed call, the cards of each side, and the diff of each rule-set pair."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cds.store.schema import Id, UtcTimestamp

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "shadow_call",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("called_at", UtcTimestamp, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("hook_instance", sa.Text, nullable=False),
        sa.Column("live_rules_version", sa.Text, nullable=False),
        sa.Column("candidate_rules_version", sa.Text, nullable=False),
    )
    op.create_index("ix_shadow_call_called_at", "shadow_call", ["called_at"])
    op.create_table(
        "shadow_card",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("call_id", Id, sa.ForeignKey("shadow_call.id", ondelete="CASCADE"), nullable=False),
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("rule_version", sa.Text, nullable=False),
        sa.Column("indicator", sa.Text, nullable=False),
        sa.Column("uuid", sa.Text),
    )
    op.create_index("ix_shadow_card_call_id", "shadow_card", ["call_id"])
    op.create_index("ix_shadow_card_uuid", "shadow_card", ["uuid"])
    op.create_table(
        "shadow_pair",
        sa.Column("live_rules_version", sa.Text, primary_key=True),
        sa.Column("candidate_rules_version", sa.Text, primary_key=True),
        sa.Column("diff", sa.Text, nullable=False),
        sa.Column("recorded_at", UtcTimestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shadow_card")
    op.drop_table("shadow_call")
    op.drop_table("shadow_pair")
