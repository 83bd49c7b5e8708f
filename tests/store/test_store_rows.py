"""A SQL row and its record share names: each table's columns are named after its record's fields."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from cds.store import AuditRecord, FeedbackRecord, IssuedCard, ShadowCard, ShadowPair, ShadowRecord
from cds.store.schema import audit_call, feedback, issued_card, shadow_call, shadow_card, shadow_pair

KEPT_ELSEWHERE = {"live_cards", "candidate_cards"}
"""A shadow call's cards are rows of shadow_card."""


@pytest.mark.parametrize(
    ("record", "table"),
    [
        (AuditRecord, audit_call),
        (IssuedCard, issued_card),
        (FeedbackRecord, feedback),
        (ShadowRecord, shadow_call),
        (ShadowCard, shadow_card),
        (ShadowPair, shadow_pair),
    ],
    ids=lambda value: getattr(value, "__name__", None) or getattr(value, "name", None),
)
def test_every_field_of_a_record_is_a_column_of_its_table(record: type, table: sa.Table) -> None:
    fields = {field.name for field in dataclasses.fields(record)} - KEPT_ELSEWHERE
    assert fields <= set(table.c.keys())
