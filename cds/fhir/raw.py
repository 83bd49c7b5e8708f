"""Resources as they arrived: parsed dicts, or their JSON text parsed only when something reads it all.

Deciding whether a resource can matter (its type, id, patient, code and date) reads a few elements; a
chart is mostly resources that cannot. So the fast reader (`cds.fhir.decode`) gives each resource those
elements, its head, and keeps the rest as its JSON text, parsed (with orjson, as the validating reader
parses) on first use of `resource`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from cds.fhir.decode import TextSource, source_text

HEAD_ELEMENTS = (
    "resourceType",
    "id",
    "subject",
    "patient",
    "code",
    "effectiveDateTime",
    "effectivePeriod",
    "effectiveInstant",
    "issued",
    "medicationCodeableConcept",
)
"""The elements a resource is triaged by before anything else of it is read: whom it is about
(`cds.fhir.patient`), what it names (recognition reads `code`, or a medication's
`medicationCodeableConcept`) and, for results, when it was observed (`cds.facts.dates.observed_at`,
for the lookback). Triage must read nothing else."""


class EncodedHead(Protocol):
    """The head of a resource as the fast reader decodes it (`cds.fhir.decode.Head`)."""

    @property
    def resourceType(self) -> Any: ...

    @property
    def id(self) -> Any: ...

    def code_key(self) -> bytes | None: ...

    def medication_key(self) -> bytes | None: ...

    def mapping(self) -> Mapping[str, Any]: ...


class RawResource:
    """One FHIR resource exactly as it arrived; never mutated, only read or validated on demand.

    `resource` is the whole parsed resource. `head` holds at least the HEAD_ELEMENTS with the same
    values (for a parsed dict it is the dict itself). `code_key` is the JSON text of `code`, and
    `medication_key` that of a `medicationCodeableConcept` that is not null, when the resource came as
    text, so that recognising a code a chart repeats can cost one dict look-up.
    """

    __slots__ = ("_encoded", "_head", "_resource", "_text", "full_url", "id", "origin", "resource_type")

    def __init__(self, resource: dict[str, Any], full_url: str | None, origin: str) -> None:
        self._resource: dict[str, Any] | None = resource
        self._head: Mapping[str, Any] | None = resource
        self._encoded: EncodedHead | None = None
        self._text: TextSource = b""
        self.resource_type: str = resource["resourceType"]
        found = resource.get("id")
        self.id: str | None = found if isinstance(found, str) else None
        self.full_url = full_url
        self.origin = origin

    @classmethod
    def from_text(cls, head: EncodedHead, text: TextSource, full_url: str | None, origin: str) -> RawResource:
        """A resource known by its head; `text` is its JSON, parsed when the whole resource is first
        read. The head's type must be text."""
        raw = cls.__new__(cls)
        raw._resource = None
        raw._head = None
        raw._encoded = head
        raw._text = text
        raw.resource_type = head.resourceType
        found = head.id
        raw.id = found if isinstance(found, str) else None
        raw.full_url = full_url
        raw.origin = origin
        return raw

    @property
    def resource(self) -> dict[str, Any]:
        found = self._resource
        if found is None:
            found = self._resource = orjson.loads(memoryview(source_text(self._text)))
        return found

    def entry_json(self) -> orjson.Fragment:
        """A Bundle entry holding the resource, as JSON to embed in `orjson.dumps`: the text it came in
        when it has not been parsed, so handing it to another process (shadow mode) parses nothing."""
        if self._resource is None:
            return orjson.Fragment(b'{"resource":' + bytes(source_text(self._text)) + b"}")
        return orjson.Fragment(orjson.dumps({"resource": self._resource}))

    @property
    def head(self) -> Mapping[str, Any]:
        found = self._head
        if found is None:
            assert self._encoded is not None
            found = self._head = self._encoded.mapping()
        return found

    @property
    def code_key(self) -> bytes | None:
        return None if self._encoded is None else self._encoded.code_key()

    @property
    def medication_key(self) -> bytes | None:
        return None if self._encoded is None else self._encoded.medication_key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawResource):
            return NotImplemented
        return (self.resource, self.full_url, self.origin) == (other.resource, other.full_url, other.origin)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RawResource({self.resource!r}, {self.full_url!r}, {self.origin!r})"


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
