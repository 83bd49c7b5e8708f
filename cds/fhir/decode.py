"""The fast reader: JSON text to resources without building the parts nothing reads.

msgspec decodes each Bundle twice, both times in C: once into small structs holding only the head of
every resource (`raw.HEAD_ELEMENTS`), once into the JSON text of every entry. Whatever a resource
holds beyond its head (a Claim's items, an Encounter, a vital sign's value) never becomes a Python
object unless something reads `RawResource.resource`, which parses that entry's text with orjson,
the parser of the validating path, so both paths see the very same values.

The fast reader refuses exactly what the validating path refuses, with the same message. msgspec
checks JSON syntax everywhere but, in the text it skips, neither UTF-8 nor whether a number fits a
double, and it has no nesting limit of ours: those are checked on the raw bytes (`checked_text`, and
the validating path's own nesting check). Anything unusual (a Bundle.entry that is not a list, an
entry whose resource is not an object, a syntax error) raises NotFast, and the caller reads that
document the validating way: slower, never different.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import orjson
from msgspec import UNSET, Raw, Struct, UnsetType

_ABSENT = Raw(b"")
"""Default of a Raw field, told from any value present (even `null`) by identity."""
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


class NotFast(Exception):
    """The document is to be read the validating way; never shown to a user."""


class Head(Struct):
    """The head of one resource (`raw.HEAD_ELEMENTS`); `code` stays JSON text, the recognition key."""

    resourceType: Any = UNSET
    id: Any = UNSET
    subject: Any = UNSET
    patient: Any = UNSET
    code: Raw = _ABSENT
    effectiveDateTime: Any = UNSET
    effectivePeriod: Any = UNSET
    effectiveInstant: Any = UNSET
    issued: Any = UNSET

    def code_key(self) -> bytes | None:
        return None if self.code is _ABSENT else bytes(self.code)

    def mapping(self) -> dict[str, Any]:
        """The elements present, as the validating reader parses them (`code` with orjson, as there;
        the others are read only where they are text, which both parsers read alike)."""
        found = {name: value for name in _PLAIN_HEAD_FIELDS if (value := getattr(self, name)) is not UNSET}
        if self.code is not _ABSENT:
            found["code"] = parse_text(self.code)
        return found


_PLAIN_HEAD_FIELDS = tuple(name for name in Head.__struct_fields__ if name != "code")


class Entry(Struct):
    fullUrl: Any = None
    resource: Head | None = None


class UnitHeads(Struct):
    """A resource or Bundle as far as reading it needs: its type and, for a Bundle, the entries' heads."""

    resourceType: Any = UNSET
    entry: list[Entry] | UnsetType = UNSET
    link: Any = UNSET


class _UnitTexts(Struct):
    entry: list[Raw] | UnsetType = UNSET


class HookCall(Struct):
    """A CDS Hooks 2.0 call's members: the prefetch values as text, the others to be parsed."""

    hook: Raw = _ABSENT
    hookInstance: Raw = _ABSENT
    fhirServer: Raw = _ABSENT
    fhirAuthorization: Raw = _ABSENT
    context: Raw = _ABSENT
    extension: Raw = _ABSENT
    prefetch: dict[str, Raw] | UnsetType | None = UNSET

    def members(self) -> dict[str, Any]:
        """The members present but prefetch, parsed as the validating reader parses them."""
        return {
            name: parse_text(value)
            for name in _PARSED_MEMBERS
            if (value := getattr(self, name)) is not _ABSENT
        }


_PARSED_MEMBERS = tuple(name for name in HookCall.__struct_fields__ if name != "prefetch")
_HOOK_CALL = msgspec.json.Decoder(HookCall)
_HEADS = msgspec.json.Decoder(UnitHeads)
_TEXTS = msgspec.json.Decoder(_UnitTexts)
_OBJECT_TEXTS = msgspec.json.Decoder(dict[str, Raw])


def parse_text(text: bytes | Raw) -> Any:
    """JSON text parsed as the validating path parses it."""
    return orjson.loads(memoryview(text) if isinstance(text, Raw) else text)


class FhirText:
    """One resource or Bundle (a prefetch value, a file) whose text is decoded only as far as read."""

    __slots__ = ("heads", "text")

    def __init__(self, text: bytes | Raw) -> None:
        """Raises NotFast; the text must be checked (`checked_text`) as part of its document."""
        self.text = text
        try:
            self.heads = _HEADS.decode(text)
        except _DECODE_ERRORS:
            raise NotFast from None
        if not isinstance(self.heads.resourceType, str):
            raise NotFast

    @property
    def resource_type(self) -> str:
        type_: str = self.heads.resourceType
        return type_

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = parse_text(self.text)
        return value

    def entry_texts(self) -> list[Raw] | None:
        """The text of each entry of a Bundle, in order; None for a resource that is not a Bundle."""
        if self.resource_type != "Bundle" or self.heads.entry is UNSET:
            return None
        try:
            texts = _TEXTS.decode(self.text).entry
        except _DECODE_ERRORS:
            raise NotFast from None
        if texts is UNSET or len(texts) != len(self.heads.entry):
            raise NotFast
        return texts


def hook_call(text: bytes) -> HookCall:
    """Raises NotFast for anything but an object whose prefetch, if any, is an object or null."""
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


def is_object_text(text: Raw) -> bool:
    return bytes(memoryview(text)[:1]) == b"{"


def checked_text(data: bytes) -> bytes:
    """Raises NotFast where msgspec would accept what orjson refuses: bad UTF-8, numbers over a double."""
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise NotFast from None
    if _may_overflow(data):
        raise NotFast
    return data


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789E", b"000000000e")
_MANY_DIGITS = b"0" * 200
_LARGE_EXPONENT = re.compile(rb"0e\+?000+[,\]} \t\r\n]")


def _may_overflow(data: bytes) -> bool:
    """Whether some number might be too large for a double: orjson refuses it, msgspec skips it.

    Such a number has an exponent of 3 digits or more, or 200 digits or more before it (an exponent
    of 2 digits adds at most 99). Exponent-like runs inside strings (hexadecimal ids such as `4e831`)
    are never followed by what ends a JSON number; in doubt, it may.
    """
    digits = data.translate(_DIGITS_AS_ZERO)
    return _MANY_DIGITS in digits or _LARGE_EXPONENT.search(digits) is not None
