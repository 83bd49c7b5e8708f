"""Resources as they arrived, kept as parsed dicts so that unused ones cost nothing beyond parsing."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RawResource:
    """One FHIR resource exactly as parsed; never mutated, only read or validated on demand."""

    resource: dict[str, Any]
    full_url: str | None
    origin: str

    @property
    def resource_type(self) -> str:
        type_: str = self.resource["resourceType"]
        return type_

    @property
    def id(self) -> str | None:
        value = self.resource.get("id")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class SourceNote:
    """Something about the input the user must be told, e.g. a prefetch key that held an error."""

    origin: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a reader found, in input order, and what the user must be told about the input."""

    resources: list[RawResource]
    notes: list[SourceNote]
