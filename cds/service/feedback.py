"""The feedback body clinicians' systems send, validated, and turned into records for the store.

Where the records go and how durably is `cds.store`'s job: feedback is durable before the 200 goes
out; the issued cards it refers to are recorded after each call's response (see `cds.service.audit`).
Each feedback entry is its own record, so a card accepted and later overridden counts as two events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, model_validator

from cds.store import FeedbackRecord


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FeedbackCoding(_Lenient):
    system: StrictStr
    code: StrictStr
    display: StrictStr | None = None


class OverrideReason(_Lenient):
    reason: FeedbackCoding | None = None
    userComment: StrictStr | None = None


class AcceptedSuggestion(_Lenient):
    id: StrictStr


class FeedbackEntry(_Lenient):
    card: Annotated[StrictStr, Field(min_length=1)]
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: AwareDatetime
    acceptedSuggestions: tuple[AcceptedSuggestion, ...] | None = None
    overrideReason: OverrideReason | None = None

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> Self:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self


class FeedbackRequest(_Lenient):
    feedback: Annotated[tuple[FeedbackEntry, ...], Field(min_length=1)]


def feedback_records(service: str, entries: Sequence[FeedbackEntry]) -> list[FeedbackRecord]:
    received = dt.datetime.now(dt.UTC)
    return [_record(service, entry, received) for entry in entries]


def _record(service: str, entry: FeedbackEntry, received: dt.datetime) -> FeedbackRecord:
    override = entry.overrideReason
    coding = override.reason if override is not None else None
    return FeedbackRecord(
        card_uuid=entry.card,
        service=service,
        outcome=entry.outcome,
        accepted_suggestions=tuple(s.id for s in entry.acceptedSuggestions)
        if entry.acceptedSuggestions
        else None,
        override_system=coding.system if coding else None,
        override_code=coding.code if coding else None,
        override_display=coding.display if coding else None,
        override_comment=override.userComment if override else None,
        outcome_timestamp=entry.outcomeTimestamp,
        received_at=received,
    )
