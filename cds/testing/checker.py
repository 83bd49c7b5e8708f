"""An independent CDS Hooks 2.0 response checker for tests and QA.

It deliberately shares no code with `cds.cards`: it reads the JSON as a client would, so a bug in the
models cannot hide itself by being applied on both sides. Every violation is reported (not just the
first) with the JSON path where it occurs, e.g. `cards[1].suggestions[0].actions[0]: delete needs
resourceId`.
"""

import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ABSOLUTE_URL = re.compile(r"(?i:https?)://[^\s/?#]+\S*")
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]+")
_RELATIVE_REFERENCE = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}")
_SUMMARY_LIMIT = 140

_RESPONSE_FIELDS = frozenset({"cards", "systemActions"})
_CARD_FIELDS = frozenset(
    {
        "uuid",
        "summary",
        "detail",
        "indicator",
        "source",
        "suggestions",
        "selectionBehavior",
        "overrideReasons",
        "links",
    }
)
_SOURCE_FIELDS = frozenset({"label", "url", "icon", "topic"})
_CODING_FIELDS = frozenset({"system", "code", "display"})
_SUGGESTION_FIELDS = frozenset({"label", "uuid", "isRecommended", "actions"})
_ACTION_FIELDS = frozenset({"type", "description", "resource", "resourceId"})
_LINK_FIELDS = frozenset({"label", "url", "type", "appContext", "autolaunchable"})


def _join(path: str, name: str) -> str:
    return name if path == "$" else f"{path}.{name}"


class _Findings:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{path}: {message}")


def check_cds_response(body: Mapping[str, Any] | bytes | str) -> list[str]:
    """Every way `body` breaks CDS Hooks 2.0, as `path: problem` lines; an empty list means valid."""
    if isinstance(body, bytes | str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            return [f"$: not valid JSON ({error})"]
    if not isinstance(body, Mapping):
        return [f"$: expected a JSON object, got {_json_type(body)}"]
    found = _Findings()
    for name, value in body.items():
        if not (name == "cards" and isinstance(value, list) and not value):
            _check_not_empty(value, str(name), found)
    _check_response(body, found)
    return found.messages


def assert_valid_cds_response(body: Mapping[str, Any] | bytes | str) -> None:
    violations = check_cds_response(body)
    if violations:
        listing = "\n".join(f"  - {v}" for v in violations)
        raise AssertionError(f"not a valid CDS Hooks 2.0 response ({len(violations)} violations):\n{listing}")


def _json_type(value: object) -> str:
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


def _check_not_empty(value: object, path: str, found: _Findings) -> None:
    """The spec's blanket rule: an optional field without a value is omitted, never sent empty."""
    if value is None:
        found.add(path, "null is not allowed; omit the field instead")
    elif isinstance(value, str) and not value.strip():
        found.add(path, "empty or whitespace-only string is not allowed; omit the field instead")
    elif isinstance(value, float) and not math.isfinite(value):
        found.add(path, f"{value} is not a JSON number")
    elif isinstance(value, list):
        if not value:
            found.add(path, "empty array is not allowed; omit the field instead")
        for i, item in enumerate(value):
            _check_not_empty(item, f"{path}[{i}]", found)
    elif isinstance(value, Mapping):
        if not value:
            found.add(path, "empty object is not allowed; omit the field instead")
        for key, item in value.items():
            _check_not_empty(item, f"{path}.{key}", found)
    elif not isinstance(value, str | bool | int | float):
        found.add(path, f"{_json_type(value)} is not a JSON value")


def _present(obj: Mapping[str, Any], name: str, path: str, found: _Findings, required: bool) -> bool:
    """Whether the field holds something to check further; null and empties were already reported."""
    if name not in obj:
        if required:
            found.add(path, f"missing required field '{name}'")
        return False
    value = obj[name]
    return value is not None and value != "" and value != [] and value != {}


def _string(
    obj: Mapping[str, Any], name: str, path: str, found: _Findings, required: bool = False
) -> str | None:
    if not _present(obj, name, path, found, required):
        return None
    value = obj[name]
    if not isinstance(value, str):
        found.add(_join(path, name), f"expected a string, got {_json_type(value)}")
        return None
    return value if value.strip() else None


def _choice(
    obj: Mapping[str, Any], name: str, allowed: tuple[str, ...], path: str, found: _Findings, required: bool
) -> str | None:
    value = _string(obj, name, path, found, required)
    if value is not None and value not in allowed:
        found.add(_join(path, name), f"must be one of {', '.join(allowed)}; got {value!r}")
        return None
    return value


def _matching(
    obj: Mapping[str, Any],
    name: str,
    pattern: re.Pattern[str],
    expected: str,
    path: str,
    found: _Findings,
    required: bool = False,
) -> str | None:
    value = _string(obj, name, path, found, required)
    if value is not None and not pattern.fullmatch(value):
        found.add(_join(path, name), f"must be {expected}; got {value!r}")
        return None
    return value


def _boolean(obj: Mapping[str, Any], name: str, path: str, found: _Findings) -> None:
    if _present(obj, name, path, found, required=False) and not isinstance(obj[name], bool):
        found.add(_join(path, name), f"expected a boolean, got {_json_type(obj[name])}")


def _object(
    obj: Mapping[str, Any], name: str, path: str, found: _Findings, required: bool = False
) -> Mapping[str, Any] | None:
    if not _present(obj, name, path, found, required):
        return None
    value = obj[name]
    if not isinstance(value, Mapping):
        found.add(_join(path, name), f"expected an object, got {_json_type(value)}")
        return None
    return value


def _objects(
    obj: Mapping[str, Any], name: str, path: str, found: _Findings, required: bool = False
) -> list[tuple[str, Mapping[str, Any]]]:
    """The array's object items with their paths; items of the wrong type are reported and skipped."""
    if name not in obj and not required:
        return []
    if name not in obj:
        found.add(path, f"missing required field '{name}'")
        return []
    value = obj[name]
    if value is None:
        return []
    if not isinstance(value, list):
        found.add(_join(path, name), f"expected an array, got {_json_type(value)}")
        return []
    items: list[tuple[str, Mapping[str, Any]]] = []
    for i, item in enumerate(value):
        item_path = f"{_join(path, name)}[{i}]"
        if isinstance(item, Mapping):
            items.append((item_path, item))
        elif item is not None:
            found.add(item_path, f"expected an object, got {_json_type(item)}")
    return items


def _fields(obj: Mapping[str, Any], allowed: frozenset[str], path: str, found: _Findings) -> None:
    for name in obj:
        if name == "extension":
            if obj[name] is not None and not isinstance(obj[name], Mapping):
                found.add(_join(path, "extension"), f"expected an object, got {_json_type(obj[name])}")
        elif name not in allowed:
            found.add(path, f"unknown field '{name}'; custom data belongs under 'extension'")


def _check_response(response: Mapping[str, Any], found: _Findings) -> None:
    _fields(response, _RESPONSE_FIELDS, "$", found)
    cards = _objects(response, "cards", "$", found, required=True)
    suggestions = [suggestion for path, card in cards for suggestion in _check_card(card, path, found)]
    for path, action in _objects(response, "systemActions", "$", found):
        _check_action(action, path, found)
    _check_unique_uuids(cards, found)
    _check_unique_uuids(suggestions, found)


def _check_card(card: Mapping[str, Any], path: str, found: _Findings) -> list[tuple[str, Mapping[str, Any]]]:
    """Returns the card's suggestions so uuids can be checked for uniqueness across the response."""
    _fields(card, _CARD_FIELDS, path, found)
    _matching(card, "uuid", _UUID, "a UUID (8-4-4-4-12 hex digits)", path, found)
    summary = _string(card, "summary", path, found, required=True)
    if summary is not None and len(summary) >= _SUMMARY_LIMIT:
        found.add(_join(path, "summary"), f"must be under {_SUMMARY_LIMIT} characters, got {len(summary)}")
    _choice(card, "indicator", ("info", "warning", "critical"), path, found, required=True)
    _string(card, "detail", path, found)
    source = _object(card, "source", path, found, required=True)
    if source is not None:
        _check_source(source, _join(path, "source"), found)
    suggestions = _objects(card, "suggestions", path, found)
    for suggestion_path, suggestion in suggestions:
        _check_suggestion(suggestion, suggestion_path, found)
    behavior = _choice(card, "selectionBehavior", ("at-most-one", "any"), path, found, required=False)
    if suggestions and "selectionBehavior" not in card:
        found.add(path, "suggestions need selectionBehavior ('at-most-one' or 'any')")
    recommended = sum(1 for _, s in suggestions if s.get("isRecommended") is True)
    if behavior == "at-most-one" and recommended > 1:
        found.add(path, f"at-most-one allows one isRecommended suggestion, got {recommended}")
    for reason_path, reason in _objects(card, "overrideReasons", path, found):
        _check_coding(reason, reason_path, found, display_required=True)
    for link_path, link in _objects(card, "links", path, found):
        _check_link(link, link_path, found)
    return suggestions


def _check_source(source: Mapping[str, Any], path: str, found: _Findings) -> None:
    _fields(source, _SOURCE_FIELDS, path, found)
    _string(source, "label", path, found, required=True)
    _matching(source, "url", _ABSOLUTE_URL, "an absolute http(s) URL", path, found)
    _matching(source, "icon", _ABSOLUTE_URL, "an absolute http(s) URL", path, found)
    topic = _object(source, "topic", path, found)
    if topic is not None:
        _check_coding(topic, _join(path, "topic"), found, display_required=False)


def _check_coding(coding: Mapping[str, Any], path: str, found: _Findings, display_required: bool) -> None:
    _fields(coding, _CODING_FIELDS, path, found)
    _string(coding, "system", path, found, required=True)
    _string(coding, "code", path, found, required=True)
    _string(coding, "display", path, found, required=display_required)


def _check_suggestion(suggestion: Mapping[str, Any], path: str, found: _Findings) -> None:
    _fields(suggestion, _SUGGESTION_FIELDS, path, found)
    _string(suggestion, "label", path, found, required=True)
    _matching(suggestion, "uuid", _UUID, "a UUID (8-4-4-4-12 hex digits)", path, found)
    _boolean(suggestion, "isRecommended", path, found)
    for action_path, action in _objects(suggestion, "actions", path, found):
        _check_action(action, action_path, found)


def _check_action(action: Mapping[str, Any], path: str, found: _Findings) -> None:
    _fields(action, _ACTION_FIELDS, path, found)
    kind = _choice(action, "type", ("create", "update", "delete"), path, found, required=True)
    _string(action, "description", path, found, required=True)
    reference = "a relative reference like 'ServiceRequest/123'"
    _matching(action, "resourceId", _RELATIVE_REFERENCE, reference, path, found)
    resource = _object(action, "resource", path, found)
    if resource is not None:
        where = _join(path, "resource")
        _matching(
            resource, "resourceType", _RESOURCE_TYPE, "a FHIR resource type", where, found, required=True
        )
    if kind == "delete":
        if action.get("resourceId") is None:
            found.add(path, "delete needs resourceId")
        if action.get("resource") is not None:
            found.add(path, "delete must not carry a resource; name the target in resourceId")
    elif kind is not None and action.get("resource") is None:
        found.add(path, f"{kind} needs resource (the whole FHIR resource)")


def _check_link(link: Mapping[str, Any], path: str, found: _Findings) -> None:
    _fields(link, _LINK_FIELDS, path, found)
    _string(link, "label", path, found, required=True)
    _matching(link, "url", _ABSOLUTE_URL, "an absolute http(s) URL", path, found, required=True)
    kind = _choice(link, "type", ("absolute", "smart"), path, found, required=True)
    _string(link, "appContext", path, found)
    if "appContext" in link and kind == "absolute":
        found.add(path, "appContext is only allowed on smart links")
    _boolean(link, "autolaunchable", path, found)


def _check_unique_uuids(holders: list[tuple[str, Mapping[str, Any]]], found: _Findings) -> None:
    """Feedback names cards and suggestions by uuid, so a repeated one makes it ambiguous."""
    first_seen: dict[str, str] = {}
    for path, holder in holders:
        uuid = holder.get("uuid")
        if not isinstance(uuid, str):
            continue
        if uuid in first_seen:
            found.add(_join(path, "uuid"), f"repeats the uuid of {first_seen[uuid]} ({uuid})")
        else:
            first_seen[uuid] = path
