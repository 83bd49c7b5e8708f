"""The JSON rules every CDS Hooks body shares, and the bookkeeping of the checkers built on them.

Each violation names the JSON path, the problem and the rule of the spec it breaks, so a QA engineer
can look the rule up instead of trusting the checker: `cards[0].summary: must be under 140 characters,
got 140 [CDS Hooks 2.0 §Card Attributes]`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

CDS_HOOKS = "CDS Hooks 2.0"
EMPTY_VALUES = f"{CDS_HOOKS} §CDS Service Response: optional fields without a value are omitted"
EXTENSIONS = f"{CDS_HOOKS} §Extensions"
CODING = f"{CDS_HOOKS} §Coding"
FHIR_JSON = "FHIR R4 §JSON Representation: no null or empty values, except null in primitive arrays"

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ABSOLUTE_URL = re.compile(r"(?i:https?)://[^\s/?#]+\S*")
UUID_EXPECTED = "a UUID (8-4-4-4-12 hex digits)"
_CODING_FIELDS = frozenset({"system", "code", "display"})


def join(path: str, name: str) -> str:
    return name if path == "$" else f"{path}.{name}"


class Findings:
    """Violations in the order found; `rule` is the section every `add` cites unless told otherwise."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: str, message: str, rule: str) -> None:
        self.messages.append(f"{path}: {message} [{rule}]")


def parsed(body: Mapping[str, Any] | bytes | str, rule: str) -> Mapping[str, Any] | list[str]:
    """The body as a JSON object, or the one violation that stops any further check."""
    if isinstance(body, bytes | str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            return [f"$: not valid JSON ({error}) [{rule}]"]
    if not isinstance(body, Mapping):
        return [f"$: expected a JSON object, got {json_type(body)} [{rule}]"]
    return body


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return f"non-JSON {type(value).__name__}"


def check_not_empty(value: object, path: str, found: Findings, *, in_resource: bool = False) -> None:
    """The blanket rule: an optional field without a value is omitted, never sent empty. Inside a FHIR
    resource, FHIR's own JSON rule applies: a primitive array may hold `null` where its `_name` sibling
    carries the id or extensions for that position."""
    rule = FHIR_JSON if in_resource else EMPTY_VALUES
    if value is None:
        found.add(path, "null is not allowed; omit the field instead", rule)
    elif isinstance(value, str) and not value.strip():
        found.add(path, "empty or whitespace-only string is not allowed; omit the field instead", rule)
    elif isinstance(value, float) and not math.isfinite(value):
        found.add(path, f"{value} is not a JSON number", rule)
    elif isinstance(value, list):
        if not value:
            found.add(path, "empty array is not allowed; omit the field instead", rule)
        for i, item in enumerate(value):
            check_not_empty(item, f"{path}[{i}]", found, in_resource=in_resource)
    elif isinstance(value, Mapping):
        if not value:
            found.add(path, "empty object is not allowed; omit the field instead", rule)
        check_members(value, path, found, in_resource=in_resource)
    elif not isinstance(value, str | bool | int | float):
        found.add(path, f"{json_type(value)} is not a JSON value", rule)


def check_members(
    obj: Mapping[str, Any], path: str, found: Findings, *, in_resource: bool = False, may_be_empty: str = ""
) -> None:
    """`check_not_empty` for each member; `may_be_empty` names the one array the spec lets be `[]`."""
    for key, item in obj.items():
        name = str(key)
        if name == may_be_empty and item == []:
            continue
        inner = in_resource or (name == "resource" and isinstance(item, Mapping) and "resourceType" in item)
        if inner and isinstance(item, list) and item:
            for i, element in enumerate(item):
                if element is None and _sibling_holds(obj, name, i):
                    continue
                check_not_empty(element, f"{join(path, name)}[{i}]", found, in_resource=True)
        else:
            check_not_empty(item, join(path, name), found, in_resource=inner)


def _sibling_holds(obj: Mapping[str, Any], name: str, index: int) -> bool:
    """Whether `given[index]`'s partner (`_given[index]`, or the other way round) has a value."""
    sibling = obj.get(name[1:] if name.startswith("_") else f"_{name}")
    return isinstance(sibling, list) and index < len(sibling) and sibling[index] is not None


class Fields:
    """Typed reads of one object's fields, each problem reported at its path under one spec rule."""

    def __init__(self, obj: Mapping[str, Any], path: str, found: Findings, rule: str) -> None:
        self.obj = obj
        self.path = path
        self.found = found
        self.rule = rule

    def add(self, message: str, name: str | None = None) -> None:
        self.found.add(self.path if name is None else join(self.path, name), message, self.rule)

    def present(self, name: str, required: bool) -> bool:
        """Whether the field holds something to check further; null and empties were already reported."""
        if name not in self.obj:
            if required:
                self.add(f"missing required field '{name}'")
            return False
        value = self.obj[name]
        return value is not None and value != "" and value != [] and value != {}

    def string(self, name: str, required: bool = False) -> str | None:
        if not self.present(name, required):
            return None
        value = self.obj[name]
        if not isinstance(value, str):
            self.add(f"expected a string, got {json_type(value)}", name)
            return None
        return value if value.strip() else None

    def choice(self, name: str, allowed: tuple[str, ...], required: bool) -> str | None:
        value = self.string(name, required)
        if value is not None and value not in allowed:
            self.add(f"must be one of {', '.join(allowed)}; got {value!r}", name)
            return None
        return value

    def matching(
        self, name: str, pattern: re.Pattern[str], expected: str, required: bool = False
    ) -> str | None:
        value = self.string(name, required)
        if value is not None and not pattern.fullmatch(value):
            self.add(f"must be {expected}; got {value!r}", name)
            return None
        return value

    def boolean(self, name: str) -> None:
        if self.present(name, required=False) and not isinstance(self.obj[name], bool):
            self.add(f"expected a boolean, got {json_type(self.obj[name])}", name)

    def object(self, name: str, required: bool = False) -> Mapping[str, Any] | None:
        if not self.present(name, required):
            return None
        value = self.obj[name]
        if not isinstance(value, Mapping):
            self.add(f"expected an object, got {json_type(value)}", name)
            return None
        return value

    def objects(self, name: str, required: bool = False) -> list[tuple[str, Mapping[str, Any]]]:
        """The array's object items with their paths; items of the wrong type are reported and skipped."""
        if name not in self.obj:
            if required:
                self.add(f"missing required field '{name}'")
            return []
        value = self.obj[name]
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(f"expected an array, got {json_type(value)}", name)
            return []
        items: list[tuple[str, Mapping[str, Any]]] = []
        for i, item in enumerate(value):
            item_path = f"{join(self.path, name)}[{i}]"
            if isinstance(item, Mapping):
                items.append((item_path, item))
            elif item is not None:
                self.found.add(item_path, f"expected an object, got {json_type(item)}", self.rule)
        return items

    def known(self, allowed: frozenset[str]) -> None:
        """Unknown fields are reported; custom data belongs under `extension`, an object."""
        for name in self.obj:
            if name == "extension":
                if self.obj[name] is not None and not isinstance(self.obj[name], Mapping):
                    self.found.add(
                        join(self.path, "extension"),
                        f"expected an object, got {json_type(self.obj[name])}",
                        EXTENSIONS,
                    )
            elif name not in allowed:
                self.add(f"unknown field '{name}'; custom data belongs under 'extension'")


def check_unique_uuids(holders: list[tuple[str, Mapping[str, Any]]], found: Findings, rule: str) -> None:
    """Feedback names cards and suggestions by uuid, so a repeated one makes it ambiguous."""
    first_seen: dict[str, str] = {}
    for path, holder in holders:
        uuid = holder.get("uuid")
        if not isinstance(uuid, str):
            continue
        if uuid in first_seen:
            found.add(join(path, "uuid"), f"repeats the uuid of {first_seen[uuid]} ({uuid})", rule)
        else:
            first_seen[uuid] = path


def check_coding(
    coding: Mapping[str, Any], path: str, found: Findings, *, display_required: bool, rule: str
) -> None:
    """CDS Hooks' own Coding: system and code required; display required where `rule` says so."""
    fields = Fields(coding, path, found, rule)
    fields.known(_CODING_FIELDS)
    fields.string("system", required=True)
    fields.string("code", required=True)
    fields.string("display", required=display_required)
