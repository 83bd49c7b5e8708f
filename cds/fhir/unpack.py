"""Turns parsed JSON into RawResources: Bundles are flattened, OperationOutcomes become notes.

Two strictness levels on purpose: a top-level unit (the document, a list item, an NDJSON line, a
prefetch value) that is not a resource makes the whole input unreadable, so it raises InputError;
a bad entry inside a Bundle is skipped with a note, because servers legitimately send entries
without a resource (deletions, transaction responses) and one odd entry must not sink a request.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from itertools import count, repeat
from typing import Any

from cds.errors import InputError
from cds.fhir.decode import EntryText, FhirText, Head, heads_one_by_one, joined_heads, parse_text
from cds.fhir.raw import RawResource, ReadResult, SourceNote, entry_origin
from cds.fhir.text import clean_text

MAX_BUNDLE_NESTING = 8
_NOT_PLAIN = frozenset({"", "Bundle", "OperationOutcome"})
_OUTCOME_TEXT_LIMIT = 300
_RESOURCE_TEXT = operator.attrgetter("resource")
_FULL_URL = operator.attrgetter("fullUrl")
_RESOURCE_TYPE = operator.attrgetter("resourceType")
_ID = operator.attrgetter("id")
_TEXT_OR_NONE = frozenset({str, type(None)})
_MANY_ENTRIES = 16
"""From this many entries on, a Bundle's resources are built by `map` in C, which costs more than a
loop in Python for a few entries (measured: 10 and 1000 resources)."""
_EXPECTED = (
    "expected a FHIR resource, a Bundle, a JSON list of resources, NDJSON or a CDS Hooks prefetch object"
)


class Collector:
    """Accumulates resources and notes from any number of units, in input order."""

    __slots__ = ("notes", "resources")

    def __init__(self) -> None:
        self.resources: list[RawResource] = []
        self.notes: list[SourceNote] = []

    def result(self) -> ReadResult:
        return ReadResult(resources=self.resources, notes=self.notes)

    def extend(self, other: Collector) -> None:
        self.resources += other.resources
        self.notes += other.notes

    def add_document(self, value: Any, label: str) -> None:
        """A whole parsed document: a resource, a Bundle, a list of them, or a prefetch object.

        An object without resourceType is a prefetch object only when some value could be FHIR data (an
        object or null); otherwise it is some other JSON, said once rather than key by key.
        """
        if isinstance(value, dict) and "resourceType" not in value:
            if value and not any(item is None or isinstance(item, dict) for item in value.values()):
                raise InputError(f"{label or 'input'}: not FHIR: an object without resourceType; {_EXPECTED}")
            self.add_prefetch(value, join(label, "prefetch"))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.add_unit(item, join(label, f"item[{index}]"))
        elif isinstance(value, dict):
            self.add_unit(value, label)
        else:
            raise InputError(f"{label or 'input'}: {_EXPECTED}; found {kind_of(value)}")

    def add_prefetch(self, prefetch: Mapping[str, Any], label: str) -> None:
        for key, value in prefetch.items():
            origin = f"{label}.{key}"
            if value is None:
                self.notes.append(SourceNote(origin, "no data (null)"))
            elif isinstance(value, FhirText):
                self.add_text(value, origin)
            elif isinstance(value, dict) and "resourceType" in value:
                self.add_unit(value, origin)
            else:
                found = "an object without resourceType" if isinstance(value, dict) else kind_of(value)
                raise InputError(f"{origin}: expected a FHIR resource, a Bundle or null; found {found}")

    def add_unit(self, value: Any, origin: str) -> None:
        """One resource or Bundle standing on its own; origin "" means the whole unlabelled input."""
        where = origin or "input"
        if not isinstance(value, dict):
            raise InputError(f"{where}: expected a FHIR resource (a JSON object); found {kind_of(value)}")
        type_ = value.get("resourceType")
        if not isinstance(type_, str) or not type_:
            raise InputError(f"{where}: expected a FHIR resource, but resourceType is missing or not text")
        self._add_resource(value, type_, None, origin, 0)

    def add_text(self, unit: FhirText, origin: str) -> None:
        """A resource or Bundle still as JSON text: a Bundle's entries are kept as text until read.

        Mirrors `add_unit` and `_add_bundle`; an entry they would treat as unusual is parsed and
        treated by the same code. A Bundle of plain resources only (the usual case) is built by one
        `map` over the RawResource constructor."""
        entries = unit.entries()
        if entries is None:
            if unit.resource_type in _NOT_PLAIN:
                self.add_unit(unit.json(), origin)
            else:
                self.resources.append(
                    RawResource.from_text(unit.unit, unit.source, None, origin or "input", None)
                )
            return
        if entries:
            self._add_entries(entries, f"{origin} " if origin else "")
        if unit.link is not None:
            self._note_next_page({"link": unit.link}, origin or "input")

    def _add_entries(self, entries: list[EntryText], prefix: str) -> None:
        texts = list(map(_RESOURCE_TEXT, entries))
        heads = joined_heads(texts)
        if heads is None:
            self._add_entries_one_by_one(entries, heads_one_by_one(texts), prefix)
        elif len(heads) < _MANY_ENTRIES:
            self._add_entries_one_by_one(entries, heads, prefix)
        else:
            types = list(map(_RESOURCE_TYPE, heads))
            ids = list(map(_ID, heads))
            urls = list(map(_FULL_URL, entries))
            if _all_plain(types) and set(map(type, ids + urls)) <= _TEXT_OR_NONE:
                self.resources += map(
                    RawResource, repeat(None), urls, repeat(prefix), heads, texts, count(), types, ids
                )
            else:
                self._add_entries_one_by_one(entries, heads, prefix)

    def _add_entries_one_by_one(
        self, entries: list[EntryText], heads: Sequence[Head | None], prefix: str
    ) -> None:
        append = self.resources.append
        for index, (entry, head) in enumerate(zip(entries, heads, strict=True)):
            if head is not None and isinstance(type_ := head.resourceType, str) and type_ not in _NOT_PLAIN:
                append(RawResource.from_text(head, entry.resource, entry.fullUrl, prefix, index))
            else:
                text = entry.resource
                self._add_unusual_entry(
                    {"resource": parse_text(text)} if len(text) else {}, entry_origin(prefix, index), 1
                )

    def _add_resource(
        self, resource: dict[str, Any], type_: str, full_url: str | None, origin: str, nesting: int
    ) -> None:
        if type_ == "Bundle":
            self._add_bundle(resource, origin, nesting + 1)
        elif type_ == "OperationOutcome":
            message = f"OperationOutcome instead of data: {outcome_text(resource)}"
            self.notes.append(SourceNote(origin or "input", message))
        else:
            self.resources.append(RawResource(resource, full_url, origin or "input"))

    def _add_bundle(self, bundle: dict[str, Any], origin: str, nesting: int) -> None:
        where_bundle = origin or "input"
        if nesting > MAX_BUNDLE_NESTING:
            message = f"Bundles nested more than {MAX_BUNDLE_NESTING} deep; skipped"
            self.notes.append(SourceNote(where_bundle, message))
            return
        entries = bundle.get("entry", [])
        if not isinstance(entries, list):
            message = f"Bundle.entry is {kind_of(entries)}, not a list; skipped"
            self.notes.append(SourceNote(where_bundle, message))
            return
        prefix = f"{origin} " if origin else ""
        append = self.resources.append
        for index, entry in enumerate(entries):
            if (
                isinstance(entry, dict)
                and isinstance(resource := entry.get("resource"), dict)
                and isinstance(type_ := resource.get("resourceType"), str)
                and type_ not in _NOT_PLAIN
            ):
                full_url = entry.get("fullUrl")
                url = full_url if isinstance(full_url, str) else None
                append(RawResource(resource, url, entry_origin(prefix, index)))
            else:
                self._add_unusual_entry(entry, entry_origin(prefix, index), nesting)
        self._note_next_page(bundle, where_bundle)

    def _note_next_page(self, bundle: Mapping[str, Any], where: str) -> None:
        if _has_next_page(bundle):
            self.notes.append(SourceNote(where, "only the first page of results was sent (Bundle.link next)"))

    def _add_unusual_entry(self, entry: Any, where: str, nesting: int) -> None:
        """Entries off the hot path: nested Bundles, OperationOutcomes and malformed entries."""
        if not isinstance(entry, dict):
            self.notes.append(SourceNote(where, f"entry is {kind_of(entry)}, not an object; skipped"))
            return
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            self.notes.append(SourceNote(where, "entry has no resource; skipped"))
            return
        type_ = resource.get("resourceType")
        if not isinstance(type_, str) or not type_:
            self.notes.append(SourceNote(where, "resource has no resourceType; skipped"))
            return
        self._add_resource(resource, type_, None, where, nesting)


def _all_plain(types: list[Any]) -> bool:
    """Whether every type is text and neither a Bundle nor an OperationOutcome; told from the set
    of the types (a chart has a few), without a loop in Python."""
    try:
        kinds = set(types)
    except TypeError:
        return False
    return kinds.isdisjoint(_NOT_PLAIN) and all(isinstance(kind, str) for kind in kinds)


def join(label: str, origin: str) -> str:
    return f"{label} {origin}" if label else origin


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def outcome_text(outcome: Mapping[str, Any]) -> str:
    """Summary of an OperationOutcome's issues for the user, kept short because servers dump stack traces."""
    issues = outcome.get("issue")
    parts: list[str] = []
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        text = details.get("text") if isinstance(details, dict) else None
        if not isinstance(text, str):
            text = issue.get("diagnostics")
        labels = [issue.get("severity"), issue.get("code")]
        head = " ".join(label for label in labels if isinstance(label, str))
        part = ": ".join(piece for piece in (head, text) if isinstance(piece, str) and piece)
        if part:
            parts.append(clean_text(part))
    summary = "; ".join(parts) or "no issue text"
    return summary if len(summary) <= _OUTCOME_TEXT_LIMIT else summary[: _OUTCOME_TEXT_LIMIT - 1] + "…"


def _has_next_page(bundle: Mapping[str, Any]) -> bool:
    links = bundle.get("link")
    return isinstance(links, list) and any(
        isinstance(link, dict) and link.get("relation") == "next" for link in links
    )
