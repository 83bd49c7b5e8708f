"""The other bodies a CDS Hooks service sends or receives: discovery documents, feedback and errors.

Same reading as the response checker: every violation, at its JSON path, citing its rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from cds.testing.fhir_check import check_resource
from cds.testing.jsonrules import (
    CDS_HOOKS,
    UUID,
    UUID_EXPECTED,
    Fields,
    Findings,
    check_coding,
    check_members,
    join,
    parsed,
)

DISCOVERY = f"{CDS_HOOKS} §Discovery"
PREFETCH_TEMPLATE = f"{CDS_HOOKS} §Prefetch Template"
FEEDBACK = f"{CDS_HOOKS} §Feedback"
OVERRIDE_REASON = f"{CDS_HOOKS} §Override Reason"
ERROR_BODY = f"{CDS_HOOKS} §HTTP Response (errors as FHIR OperationOutcome, as the 3.0 ballot requires)"

_SERVICE_FIELDS = frozenset({"hook", "title", "description", "id", "prefetch", "usageRequirements"})
_FEEDBACK_FIELDS = frozenset({"card", "outcome", "acceptedSuggestions", "overrideReason", "outcomeTimestamp"})
_OVERRIDE_FIELDS = frozenset({"reason", "userComment"})
_TOKEN = re.compile(r"\{\{(.*?)\}\}")
_CONTEXT_TOKEN = re.compile(r"context\.[A-Za-z]+")
USER_TOKENS = frozenset(
    {"userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"}
)
_SERVICE_ID = re.compile(r"[A-Za-z0-9\-._~]+")
"""The `{id}` of `{base}/cds-services/{id}`: URL path characters that need no escaping."""


def check_discovery(body: Mapping[str, Any] | bytes | str) -> list[str]:
    """Every way a discovery document (GET {base}/cds-services) breaks CDS Hooks 2.0."""
    document = parsed(body, DISCOVERY)
    if isinstance(document, list):
        return document
    found = Findings()
    check_members(document, "$", found, may_be_empty="services")
    fields = Fields(document, "$", found, DISCOVERY)
    fields.known(frozenset({"services"}))
    seen: dict[tuple[str, str], str] = {}
    for path, service in fields.objects("services", required=True):
        key = _check_service(service, path, found)
        if key in seen:
            found.add(path, f"lists {key[0]!r} for hook {key[1]!r} again (first at {seen[key]})", DISCOVERY)
        elif key is not None:
            seen[key] = path
    return found.messages


def _check_service(service: Mapping[str, Any], path: str, found: Findings) -> tuple[str, str] | None:
    fields = Fields(service, path, found, DISCOVERY)
    fields.known(_SERVICE_FIELDS)
    hook = fields.string("hook", required=True)
    service_id = fields.matching("id", _SERVICE_ID, "a URL path segment (letters, digits, - . _ ~)", True)
    fields.string("description", required=True)
    fields.string("title")
    fields.string("usageRequirements")
    prefetch = fields.object("prefetch")
    for key, template in (prefetch or {}).items():
        where = join(join(path, "prefetch"), str(key))
        if not isinstance(template, str):
            found.add(where, f"expected a query template string, got {type(template).__name__}", DISCOVERY)
            continue
        for token in _TOKEN.findall(template):
            name = token.strip()
            if not (_CONTEXT_TOKEN.fullmatch(name) or name in USER_TOKENS):
                found.add(
                    where, f"token {{{{{token}}}}} is not a CDS Hooks 2.0 prefetch token", PREFETCH_TEMPLATE
                )
    return (service_id, hook) if service_id and hook else None


def check_feedback(body: Mapping[str, Any] | bytes | str) -> list[str]:
    """Every way a feedback body (POST {base}/cds-services/{id}/feedback) breaks CDS Hooks 2.0."""
    document = parsed(body, FEEDBACK)
    if isinstance(document, list):
        return document
    found = Findings()
    check_members(document, "$", found)
    fields = Fields(document, "$", found, FEEDBACK)
    fields.known(frozenset({"feedback"}))
    for path, entry in fields.objects("feedback", required=True):
        _check_feedback_entry(entry, path, found)
    return found.messages


def _check_feedback_entry(entry: Mapping[str, Any], path: str, found: Findings) -> None:
    fields = Fields(entry, path, found, FEEDBACK)
    fields.known(_FEEDBACK_FIELDS)
    fields.matching("card", UUID, UUID_EXPECTED, required=True)
    outcome = fields.choice("outcome", ("accepted", "overridden"), required=True)
    timestamp = fields.string("outcomeTimestamp", required=True)
    if timestamp is not None and not _is_utc_instant(timestamp):
        fields.add(f"must be an ISO 8601 date and time in UTC; got {timestamp!r}", "outcomeTimestamp")
    accepted = fields.objects("acceptedSuggestions", required=outcome == "accepted")
    for suggestion_path, suggestion in accepted:
        Fields(suggestion, suggestion_path, found, FEEDBACK).matching("id", UUID, UUID_EXPECTED, True)
    if accepted and outcome == "overridden":
        fields.add("acceptedSuggestions belong to an accepted outcome, not an overridden one")
    reason = fields.object("overrideReason")
    if reason is None:
        return
    where = join(path, "overrideReason")
    if outcome == "accepted":
        fields.add("overrideReason belongs to an overridden outcome, not an accepted one")
    reason_fields = Fields(reason, where, found, OVERRIDE_REASON)
    reason_fields.known(_OVERRIDE_FIELDS)
    coding = reason_fields.object("reason")
    if coding is not None:
        check_coding(coding, join(where, "reason"), found, display_required=False, rule=OVERRIDE_REASON)
    reason_fields.string("userComment")


def _is_utc_instant(text: str) -> bool:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text and moment.utcoffset() == dt.timedelta(0)


def check_error_body(body: Mapping[str, Any] | bytes | str) -> list[str]:
    """Every way an error answer's body fails to be a valid FHIR R4 OperationOutcome."""
    document = parsed(body, ERROR_BODY)
    if isinstance(document, list):
        return document
    found = Findings()
    if document.get("resourceType") != "OperationOutcome":
        found.add(
            "resourceType", f"expected 'OperationOutcome', got {document.get('resourceType')!r}", ERROR_BODY
        )
        return found.messages
    check_members(document, "$", found, in_resource=True)
    check_resource(document, "$", found)
    return found.messages
