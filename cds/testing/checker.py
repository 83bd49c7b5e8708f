"""An independent CDS Hooks 2.0 checker for tests and QA: responses, discovery, feedback and errors.

It deliberately shares no code with `cds.cards` or `cds.service`: it reads the JSON as a client would,
so a bug in the models cannot hide itself by being applied on both sides. Every violation is reported
(not just the first) with the JSON path where it occurs and the rule of the spec it breaks, e.g.
`cards[1].suggestions[0].actions[0]: delete needs resourceId [CDS Hooks 2.0 §Action]`. The resources
inside actions are validated as FHIR R4 (R4B models).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cds.testing.bodies import check_discovery, check_error_body, check_feedback
from cds.testing.fhir_check import check_resource
from cds.testing.jsonrules import (
    ABSOLUTE_URL,
    CDS_HOOKS,
    CODING,
    UUID,
    UUID_EXPECTED,
    Fields,
    Findings,
    check_coding,
    check_members,
    check_unique_uuids,
    join,
    parsed,
)

RESPONSE = f"{CDS_HOOKS} §CDS Service Response"
CARD = f"{CDS_HOOKS} §Card Attributes"
SOURCE = f"{CDS_HOOKS} §Source"
SUGGESTION = f"{CDS_HOOKS} §Suggestion"
ACTION = f"{CDS_HOOKS} §Action"
LINK = f"{CDS_HOOKS} §Link"
OVERRIDE_REASON = f"{CDS_HOOKS} §Override Reason"
SYSTEM_ACTION = f"{CDS_HOOKS} §System Action"

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
_SUGGESTION_FIELDS = frozenset({"label", "uuid", "isRecommended", "actions"})
_ACTION_FIELDS = frozenset({"type", "description", "resource", "resourceId"})
_LINK_FIELDS = frozenset({"label", "url", "type", "appContext", "autolaunchable"})


def check_cds_response(body: Mapping[str, Any] | bytes | str) -> list[str]:
    """Every way `body` breaks CDS Hooks 2.0, as `path: problem [rule]` lines; empty means valid."""
    response = parsed(body, RESPONSE)
    if isinstance(response, list):
        return response
    found = Findings()
    check_members(response, "$", found, may_be_empty="cards")
    _check_response(response, found)
    return found.messages


def assert_valid_cds_response(body: Mapping[str, Any] | bytes | str) -> None:
    violations = check_cds_response(body)
    if violations:
        listing = "\n".join(f"  - {v}" for v in violations)
        raise AssertionError(f"not a valid CDS Hooks 2.0 response ({len(violations)} violations):\n{listing}")


def _check_response(response: Mapping[str, Any], found: Findings) -> None:
    fields = Fields(response, "$", found, RESPONSE)
    fields.known(_RESPONSE_FIELDS)
    cards = fields.objects("cards", required=True)
    suggestions = [suggestion for path, card in cards for suggestion in _check_card(card, path, found)]
    for path, action in fields.objects("systemActions"):
        _check_action(action, path, found)
    check_unique_uuids(cards, found, CARD)
    check_unique_uuids(suggestions, found, SUGGESTION)


def _check_card(card: Mapping[str, Any], path: str, found: Findings) -> list[tuple[str, Mapping[str, Any]]]:
    """Returns the card's suggestions so uuids can be checked for uniqueness across the response."""
    fields = Fields(card, path, found, CARD)
    fields.known(_CARD_FIELDS)
    fields.matching("uuid", UUID, UUID_EXPECTED)
    summary = fields.string("summary", required=True)
    if summary is not None and len(summary) >= _SUMMARY_LIMIT:
        fields.add(f"must be under {_SUMMARY_LIMIT} characters, got {len(summary)}", "summary")
    fields.choice("indicator", ("info", "warning", "critical"), required=True)
    fields.string("detail")
    source = fields.object("source", required=True)
    if source is not None:
        _check_source(source, join(path, "source"), found)
    suggestions = fields.objects("suggestions")
    for suggestion_path, suggestion in suggestions:
        _check_suggestion(suggestion, suggestion_path, found)
    behavior = fields.choice("selectionBehavior", ("at-most-one", "any"), required=False)
    if suggestions and "selectionBehavior" not in card:
        fields.add("suggestions need selectionBehavior ('at-most-one' or 'any')")
    recommended = sum(1 for _, s in suggestions if s.get("isRecommended") is True)
    if behavior == "at-most-one" and recommended > 1:
        fields.add(f"at-most-one allows one isRecommended suggestion, got {recommended}")
    for reason_path, reason in fields.objects("overrideReasons"):
        check_coding(reason, reason_path, found, display_required=True, rule=OVERRIDE_REASON)
    for link_path, link in fields.objects("links"):
        _check_link(link, link_path, found)
    return suggestions


def _check_source(source: Mapping[str, Any], path: str, found: Findings) -> None:
    fields = Fields(source, path, found, SOURCE)
    fields.known(_SOURCE_FIELDS)
    fields.string("label", required=True)
    fields.matching("url", ABSOLUTE_URL, "an absolute http(s) URL")
    fields.matching("icon", ABSOLUTE_URL, "an absolute http(s) URL")
    topic = fields.object("topic")
    if topic is not None:
        check_coding(topic, join(path, "topic"), found, display_required=False, rule=CODING)


def _check_suggestion(suggestion: Mapping[str, Any], path: str, found: Findings) -> None:
    fields = Fields(suggestion, path, found, SUGGESTION)
    fields.known(_SUGGESTION_FIELDS)
    fields.string("label", required=True)
    fields.matching("uuid", UUID, UUID_EXPECTED)
    fields.boolean("isRecommended")
    for action_path, action in fields.objects("actions"):
        _check_action(action, action_path, found)


def _check_action(action: Mapping[str, Any], path: str, found: Findings) -> None:
    fields = Fields(action, path, found, ACTION)
    fields.known(_ACTION_FIELDS)
    kind = fields.choice("type", ("create", "update", "delete"), required=True)
    fields.string("description", required=True)
    fields.matching("resourceId", _RELATIVE_REFERENCE, "a relative reference like 'ServiceRequest/123'")
    resource = fields.object("resource")
    if resource is not None:
        where = join(path, "resource")
        resource_fields = Fields(resource, where, found, ACTION)
        known_type = resource_fields.matching("resourceType", _RESOURCE_TYPE, "a FHIR resource type", True)
        if known_type and kind != "delete":
            check_resource(resource, where, found)
    if kind == "delete":
        if action.get("resourceId") is None:
            fields.add("delete needs resourceId")
        if action.get("resource") is not None:
            fields.add("delete must not carry a resource; name the target in resourceId")
    elif kind is not None and action.get("resource") is None:
        fields.add(f"{kind} needs resource (the whole FHIR resource)")


def _check_link(link: Mapping[str, Any], path: str, found: Findings) -> None:
    fields = Fields(link, path, found, LINK)
    fields.known(_LINK_FIELDS)
    fields.string("label", required=True)
    fields.matching("url", ABSOLUTE_URL, "an absolute http(s) URL", required=True)
    kind = fields.choice("type", ("absolute", "smart"), required=True)
    fields.string("appContext")
    if "appContext" in link and kind == "absolute":
        fields.add("appContext is only allowed on smart links")
    fields.boolean("autolaunchable")


__all__ = [
    "assert_valid_cds_response",
    "check_cds_response",
    "check_discovery",
    "check_error_body",
    "check_feedback",
]
