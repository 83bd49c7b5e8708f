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
from msgspec import Struct

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

    def subject_text(self) -> bytes | None: ...

    def mapping(self) -> Mapping[str, Any]: ...


class RawResource(Struct, gc=False):
    """One FHIR resource exactly as it arrived; never mutated, only read or validated on demand.

    Built as `RawResource(resource, full_url, origin)` from a parsed dict, or from the head of a
    resource that came as text (`from_text`).
    `resource` is the whole parsed resource. `head` holds at least the HEAD_ELEMENTS with the same
    values (for a parsed dict it is the dict itself). `code_key` is the JSON text of `code`, and
    `medication_key` that of a `medicationCodeableConcept` that is not null, when the resource came as
    text, so that recognising a code a chart repeats can cost one dict look-up; both are read from the
    head when asked, so the many resources nothing recognises never copy theirs. A Bundle entry's
    origin is spelled out only when read: a call holds a thousand entries and reads a few origins.

    A msgspec Struct because a call builds one per entry: built in C, it costs a third of a Python
    object with as many attributes, and a Bundle's entries are built by `map` over the constructor
    (no Python frame an entry but `__post_init__`'s, which has nothing to do for them). Not tracked
    by the garbage collector: nothing it holds refers back to it.
    """

    _resource: dict[str, Any] | None
    full_url: str | None
    _origin: str
    _encoded: EncodedHead | None = None
    _text: TextSource = b""
    _index: int | None = None
    resource_type: str = ""
    id: str | None = None
    _head: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        resource = self._resource
        if resource is not None:
            self._head = resource
            self.resource_type = resource["resourceType"]
            found = resource.get("id")
            self.id = found if isinstance(found, str) else None

    @classmethod
    def from_text(
        cls, head: EncodedHead, text: TextSource, full_url: object, origin: str, index: int | None
    ) -> RawResource:
        """A resource known by its head; `text` is its JSON, parsed when the whole resource is first
        read. The head's type must be text; a full URL or id that is not text is none. With an
        `index`, the origin is entry `index` of the Bundle whose entries `origin` prefixes
        (`entry_origin`). Many at once, when every type, id and full URL is known to be text or
        None: `map(RawResource, repeat(None), urls, repeat(origin), heads, texts, count(), types, ids)`."""
        found = head.id
        id_ = found if isinstance(found, str) else None
        url = full_url if isinstance(full_url, str) else None
        return cls(None, url, origin, head, text, index, head.resourceType, id_)

    @property
    def origin(self) -> str:
        index = self._index
        return self._origin if index is None else entry_origin(self._origin, index)

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
        """The JSON text of `code` as it came, when the resource came as text and has one."""
        return None if self._encoded is None else self._encoded.code_key()

    @property
    def medication_key(self) -> bytes | None:
        return None if self._encoded is None else self._encoded.medication_key()

    @property
    def subject_text(self) -> bytes | None:
        """The JSON text of `subject` as it came, when the resource came as text and has one."""
        return None if self._encoded is None else self._encoded.subject_text()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawResource):
            return NotImplemented
        return (self.resource, self.full_url, self.origin) == (other.resource, other.full_url, other.origin)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RawResource({self.resource!r}, {self.full_url!r}, {self.origin!r})"


def entry_origin(prefix: str, index: int) -> str:
    """Where entry `index` of a Bundle is, `prefix` being the Bundle's origin and a space, or nothing."""
    return f"{prefix}entry[{index}]"


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
