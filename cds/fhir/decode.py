"""The fast reader: JSON text to resources without building the parts nothing reads.

A document is checked first, then decoded by msgspec in C in two passes: one into the members of a
call (or a Bundle) with the text of every entry's resource, one over those texts into the head of
each resource (`raw.HEAD_ELEMENTS`). Whatever a resource holds beyond its head (a Claim's items, a
vital sign's value) never becomes a Python object unless something reads `RawResource.resource`,
which parses that resource's text with orjson, the parser of the validating path, so both paths see
the very same values.

The fast reader refuses exactly what the validating path refuses, with the same message, because it
hands every document it does not take to that path. msgspec checks JSON syntax everywhere but, in
the text it skips, neither UTF-8 nor whether a number fits a double, and it has no nesting limit of
ours: so one pass in C first measures the nesting as the validating path does and tells whether the
text holds anything of that kind (`checked_text`); only a text that does is parsed whole by yyjson,
the parser orjson is built on (without building Python objects: it refuses what orjson refuses).
Anything unusual (a Bundle.entry that is not a list, a prefetch
value that is not an object, a syntax error) raises NotFast, and the caller reads that document the
validating way: slower, never different.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
import orjson
import yyjson
from msgspec import UNSET, Raw, Struct, UnsetType

from cds.fhir.jsonparse import Shape, text_shape

_ABSENT = Raw(b"")
"""Default of a Raw field, told from any value present (even `null`) by identity."""
_NULL = Raw(b"null")
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


class NotFast(Exception):
    """The document is to be read the validating way; never shown to a user."""


class Head(Struct, gc=False):
    """The head of one resource (`raw.HEAD_ELEMENTS`). Only the type and id are decoded; the other
    elements stay JSON text, parsed with orjson when read (`code` is the recognition key as it is).

    Heads and entries are not tracked by the garbage collector (a call decodes a thousand of each):
    what JSON decodes into can never refer back to them."""

    resourceType: Any = UNSET
    id: Any = UNSET
    subject: Raw = _ABSENT
    patient: Raw = _ABSENT
    code: Raw = _ABSENT
    effectiveDateTime: Raw = _ABSENT
    effectivePeriod: Raw = _ABSENT
    effectiveInstant: Raw = _ABSENT
    issued: Raw = _ABSENT
    medicationCodeableConcept: Raw = _ABSENT

    def code_key(self) -> bytes | None:
        return None if self.code is _ABSENT else bytes(self.code)

    def subject_text(self) -> bytes | None:
        return None if self.subject is _ABSENT else bytes(self.subject)

    def medication_key(self) -> bytes | None:
        text = self.medicationCodeableConcept
        return None if text is _ABSENT or text == _NULL else bytes(text)

    def mapping(self) -> HeadView:
        return HeadView(self)


_DECODED_HEAD_FIELDS = ("resourceType", "id")
_TEXT_HEAD_FIELDS = frozenset(Head.__struct_fields__) - set(_DECODED_HEAD_FIELDS)


class HeadView(Mapping[str, Any]):
    """The elements of a head that are present, as the validating reader parses them: each parsed
    when first read (the type and id are read only where they are text, which both parsers read
    alike), so a patient or date check parses only what it reads."""

    __slots__ = ("_head", "_parsed")

    def __init__(self, head: Head) -> None:
        self._head = head
        self._parsed: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._parsed:
            return self._parsed[key]
        if key in _TEXT_HEAD_FIELDS:
            text = getattr(self._head, key)
            if text is _ABSENT:
                return default
            value = self._parsed[key] = parse_text(text)
            return value
        if key in _DECODED_HEAD_FIELDS:
            value = getattr(self._head, key)
            return default if value is UNSET else value
        return default

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        head = self._head
        return (name for name in Head.__struct_fields__ if getattr(head, name) not in (UNSET, _ABSENT))

    def __len__(self) -> int:
        return sum(1 for _ in self)


_MISSING = object()


class EntryText(Struct, gc=False):
    fullUrl: Any = None
    resource: Raw = _ABSENT


class Unit(Head):
    """A resource or Bundle standing on its own (a prefetch value, a file): its own head and, for a
    Bundle, the text of each entry's resource."""

    entry: list[EntryText] | UnsetType = UNSET
    link: Any = UNSET


class HookCall(Struct):
    """A CDS Hooks 2.0 call's members: the prefetch values decoded as units, the others as text."""

    hook: Raw = _ABSENT
    hookInstance: Raw = _ABSENT
    fhirServer: Raw = _ABSENT
    fhirAuthorization: Raw = _ABSENT
    context: Raw = _ABSENT
    extension: Raw = _ABSENT
    prefetch: dict[str, Unit | None] | UnsetType | None = UNSET

    def members(self) -> dict[str, Any]:
        """The members present but prefetch, parsed as the validating reader parses them."""
        return {
            name: orjson.loads(memoryview(value))
            for name in _PARSED_MEMBERS
            if (value := getattr(self, name)) is not _ABSENT
        }


class _PrefetchTexts(Struct):
    prefetch: dict[str, Raw] = {}


_PARSED_MEMBERS = tuple(name for name in HookCall.__struct_fields__ if name != "prefetch")
_HOOK_CALL = msgspec.json.Decoder(HookCall)
_PREFETCH_TEXTS = msgspec.json.Decoder(_PrefetchTexts)
_UNIT = msgspec.json.Decoder(Unit)
_HEAD = msgspec.json.Decoder(Head)
_HEADS = msgspec.json.Decoder(list[Head])
_OBJECT_TEXTS = msgspec.json.Decoder(dict[str, Raw])


def parse_text(text: bytes | Raw) -> Any:
    """JSON text parsed as the validating path parses it."""
    return orjson.loads(memoryview(text) if isinstance(text, Raw) else text)


class PrefetchText:
    """The text of one prefetch value of a call body, found (one more pass over the body, once per
    body) only when something reads that value whole, which the evaluation of a call never does."""

    __slots__ = ("_body", "key")

    def __init__(self, body: CallBody, key: str) -> None:
        self._body = body
        self.key = key

    def text(self) -> Raw:
        return self._body.value(self.key)


class CallBody:
    """A call body whose prefetch values are read as text when first asked for."""

    __slots__ = ("_text", "_values")

    def __init__(self, text: bytes) -> None:
        self._text = text
        self._values: dict[str, Raw] | None = None

    def value(self, key: str) -> Raw:
        if self._values is None:
            self._values = _PREFETCH_TEXTS.decode(self._text).prefetch
        return self._values[key]

    def source(self, key: str) -> PrefetchText:
        return PrefetchText(self, key)


TextSource = bytes | Raw | PrefetchText
"""JSON text of a resource or Bundle, or where to find it."""


def source_text(source: TextSource) -> bytes | Raw:
    return source.text() if isinstance(source, PrefetchText) else source


class FhirText:
    """One resource or Bundle (a prefetch value, a file) whose text is decoded only as far as read."""

    __slots__ = ("source", "unit")

    def __init__(self, unit: Unit, source: TextSource) -> None:
        """Raises NotFast unless the unit has a resourceType that is text."""
        if not isinstance(unit.resourceType, str):
            raise NotFast
        self.unit = unit
        self.source = source

    @classmethod
    def of_text(cls, text: bytes | Raw) -> FhirText:
        """Raises NotFast; the text must be checked (`checked_text`) as part of its document."""
        try:
            unit = _UNIT.decode(text)
        except _DECODE_ERRORS:
            raise NotFast from None
        return cls(unit, text)

    @property
    def resource_type(self) -> str:
        type_: str = self.unit.resourceType
        return type_

    @property
    def link(self) -> Any:
        return None if self.unit.link is UNSET else self.unit.link

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = parse_text(source_text(self.source))
        return value

    def entries(self) -> list[EntryText] | None:
        """The entries of a Bundle, in order; None for a resource that is not a Bundle or a Bundle
        without entries."""
        if self.resource_type != "Bundle" or self.unit.entry is UNSET:
            return None
        return self.unit.entry


def joined_heads(texts: list[bytes | Raw]) -> list[Head] | None:
    """The head of each resource text in one decode of all the texts joined; None when some
    resource is absent or not an object."""
    if not texts:
        return []
    joined = list(texts)
    joined[0] = b"[" + joined[0]
    joined[-1] = bytes(joined[-1]) + b"]"
    try:
        return _HEADS.decode(b",".join(joined))
    except _DECODE_ERRORS:
        return None


def heads_one_by_one(texts: list[bytes | Raw]) -> list[Head | None]:
    """The head of each resource text, None where the resource is absent or not an object; for
    texts that do not decode joined (`joined_heads`)."""
    return [_HEAD.decode(text) if is_object_text(text) else None for text in texts]


def hook_call(text: bytes) -> HookCall:
    """Raises NotFast for anything but an object whose prefetch, if any, is null or maps keys to
    objects or null."""
    try:
        return _HOOK_CALL.decode(text)
    except _DECODE_ERRORS:
        raise NotFast from None


def object_texts(text: bytes | Raw) -> dict[str, Raw]:
    """The members of a JSON object, each still as text; raises NotFast for anything but an object."""
    try:
        return _OBJECT_TEXTS.decode(text)
    except _DECODE_ERRORS:
        raise NotFast from None


def is_object_text(text: bytes | Raw) -> bool:
    return bytes(memoryview(text)[:1]) == b"{"


def checked_text(data: bytes) -> bytes:
    """Raises NotFast unless orjson would parse `data` once msgspec has decoded all of it, and its
    nesting is within the validating path's limit.

    msgspec refuses any text outside the JSON grammar. Only a text of an unusual shape (`Shape`)
    could still be one orjson refuses, so only such a text is parsed by yyjson, which orjson is built
    on, without building Python objects: it refuses what orjson refuses.
    """
    shape = text_shape(data)
    if shape == Shape.DEEPER:
        raise NotFast
    if shape == Shape.UNUSUAL:
        try:
            yyjson.Document(data)
        except ValueError:
            raise NotFast from None
    return data
