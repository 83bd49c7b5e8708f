"""pydantic's validation errors as (location, message): the one translation every error report uses.

Rule files, test cases, FHIR validation, request bodies and settings all report a field and what was
wrong with it; pydantic adds wrapper steps to the location ("root", "function-after[...]") and a
"Value error, " prefix to messages of our own validators, and neither means anything to a reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class FieldError:
    loc: Location
    """Field names and list indexes from the top of the validated data, wrapper steps left out."""
    message: str
    type: str


def _wrapper(step: str | int) -> bool:
    return step == "root" or (isinstance(step, str) and step.startswith("function-"))


def message_of(detail: ErrorDetails) -> str:
    """The message as our validators wrote it, without pydantic's "Value error, " prefix."""
    return str(detail["msg"]).removeprefix("Value error, ")


def field_errors(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(
            loc=tuple(step for step in detail["loc"] if not _wrapper(step)),
            message=message_of(detail),
            type=detail["type"],
        )
        for detail in error.errors(include_url=False, include_input=False)
    ]


def dotted(loc: Location) -> str:
    """`concepts.weakness.codes.0.system`"""
    return ".".join(str(step) for step in loc)
