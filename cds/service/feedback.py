"""The feedback body clinicians' systems send, validated, and turned into records for the store.

Where the records go and how durably is `cds.store`'s job: feedback is durable before the 200 goes
out; the issued cards it refers to are recorded after each call's response (see `cds.service.audit`).
Each feedback entry is its own record, so a card accepted and later overridden counts as two events.
Every list and text has a bound (a post held 20,000 entries and a 4 MB comment before), and the rule
"accepted needs acceptedSuggestions" is in the JSON schema too, so the OpenAPI document and the checks
agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    model_validator,
)
from pydantic.config import JsonDict

from cds.store import FeedbackRecord

MAX_ENTRIES = 100
MAX_SUGGESTIONS = 50
MAX_COMMENT_CHARACTERS = 2_000
MAX_ID_CHARACTERS = 128
MAX_TEXT_CHARACTERS = 1_024

Id = Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID_CHARACTERS)]
Text = Annotated[StrictStr, Field(max_length=MAX_TEXT_CHARACTERS)]


def _timestamp_text(value: Any) -> Any:
    """JSON carries the time as text: a number would be read as seconds since 1970, which no one meant."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time text with a time zone")
    return value


def _in_utc(value: dt.datetime) -> dt.datetime:
    """Stored in UTC; 0001-01-01T00:00+01:00 has no UTC time and used to end in a 500."""
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("must be a date-time that exists in UTC (year 1 to 9999)") from None


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FeedbackCoding(_Lenient):
    system: Text
    code: Annotated[StrictStr, Field(max_length=256)]
    display: Text | None = None


class OverrideReason(_Lenient):
    reason: FeedbackCoding | None = None
    userComment: Annotated[StrictStr, Field(max_length=MAX_COMMENT_CHARACTERS)] | None = None


class AcceptedSuggestion(_Lenient):
    id: Id


_ACCEPTED_NAMES_SUGGESTIONS: JsonDict = {
    "if": {"properties": {"outcome": {"const": "accepted"}}, "required": ["outcome"]},
    "then": {"required": ["acceptedSuggestions"], "properties": {"acceptedSuggestions": {"type": "array"}}},
}


class FeedbackEntry(_Lenient):
    model_config = ConfigDict(json_schema_extra=_ACCEPTED_NAMES_SUGGESTIONS)

    card: Id
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: Annotated[
        AwareDatetime,
        BeforeValidator(_timestamp_text),
        AfterValidator(_in_utc),
        Field(json_schema_extra={"pattern": "^(?!0001-01-01|9999-12-31)"}),
    ]
    acceptedSuggestions: (
        Annotated[tuple[AcceptedSuggestion, ...], Field(min_length=1, max_length=MAX_SUGGESTIONS)] | None
    ) = None
    overrideReason: OverrideReason | None = None

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> Self:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self


class FeedbackRequest(_Lenient):
    feedback: Annotated[tuple[FeedbackEntry, ...], Field(min_length=1, max_length=MAX_ENTRIES)]


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
