"""A service's discovery document, read as a client reads it: which hooks, which prefetch queries.

Each prefetch template is parsed once: a read (`Patient/{{context.patientId}}`: one resource, never a
Bundle) or a type-level search (`Observation?patient=...&code=...`: a searchset Bundle). Filling a
template resolves its tokens from the call's context, as the sandbox does, and a search is answered
from a record with the parameters a FHIR server would apply (`patient`/`subject`, `code`, `status`,
`_id`); other parameters (dates, `_count`, `_sort`) are not applied, so a search may return more than a
real server would, never less.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
from pydantic import BaseModel, ConfigDict

from cds.testing.fhir_values import JsonObject

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
_REFERENCED_ID = re.compile(r"(?:^|/)[A-Z][A-Za-z]+/([A-Za-z0-9\-.]+)")
_APPLIED = frozenset({"patient", "subject", "code", "status", "_id"})
DISCOVERY_PATH = "/cds-services"


class PrefetchQuery(BaseModel):
    """One prefetch key: its template, the resource type it returns, and whether it is a read."""

    model_config = ConfigDict(frozen=True)

    key: str
    template: str
    resource_type: str
    kind: Literal["read", "search"]

    @property
    def reads_patient(self) -> bool:
        return self.kind == "read" and self.template.replace(" ", "") == "Patient/{{context.patientId}}"

    def filled(self, context: Mapping[str, Any]) -> str:
        """The query with its tokens resolved from the call's context (`{{userPractitionerId}}` is the id
        of `userId` when the user is a Practitioner); an unresolvable token is left empty, as clients do."""

        def value(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("context."):
                found = context.get(token.removeprefix("context."))
                return found if isinstance(found, str) else ""
            user = context.get("userId")
            kind, _, user_id = user.partition("/") if isinstance(user, str) else ("", "", "")
            return user_id if _USER_TOKENS.get(token) == kind else ""

        return _TOKEN.sub(value, self.template)

    def answer(self, query: str, resources: list[JsonObject]) -> JsonObject | list[JsonObject] | None:
        """What a FHIR server returns for the filled `query` over `resources`: the one resource read (None
        when there is none), or the list of matches of a search."""
        path, _, params = query.partition("?")
        if self.kind == "read":
            wanted = path.split("/")[1] if "/" in path else ""
            return next(
                (
                    r
                    for r in resources
                    if r.get("resourceType") == self.resource_type and r.get("id") == wanted
                ),
                None,
            )
        conditions = [(name, value) for name, value in parse_qsl(params) if name in _APPLIED]
        return [
            resource
            for resource in resources
            if resource.get("resourceType") == self.resource_type
            and all(_matches(resource, name, value) for name, value in conditions)
        ]


def _matches(resource: JsonObject, name: str, value: str) -> bool:
    choices = value.split(",")
    if name in ("patient", "subject"):
        reference = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        found = _REFERENCED_ID.search(reference)
        return found is not None and any(found.group(1) == c.split("/")[-1] for c in choices)
    if name == "_id":
        return resource.get("id") in choices
    if name == "status":
        return resource.get("status") in choices
    concepts = [resource.get(field) for field in ("code", "medicationCodeableConcept")]
    codings = [c for concept in concepts if isinstance(concept, dict) for c in concept.get("coding", [])]
    return any(
        choice in (f"{c.get('system')}|{c.get('code')}", str(c.get("code")))
        for c in codings
        for choice in choices
    )


class AdvertisedService(BaseModel):
    """One entry of the discovery document."""

    model_config = ConfigDict(frozen=True)

    id: str
    hook: str
    prefetch: tuple[PrefetchQuery, ...]


class Discovery(BaseModel):
    model_config = ConfigDict(frozen=True)

    base_url: str | None
    """Where the services are called (`{base_url}/cds-services/{id}`), when read from a URL."""
    services: tuple[AdvertisedService, ...]


def parse_query(key: str, template: str) -> PrefetchQuery:
    path = template.split("?")[0].strip("/")
    steps = path.split("/")
    kind: Literal["read", "search"] = "search" if "?" in template or len(steps) == 1 else "read"
    return PrefetchQuery(key=key, template=template, resource_type=steps[0], kind=kind)


def read_discovery(
    source: str | Path | Mapping[str, Any] | bytes, headers: Mapping[str, str] | None = None
) -> Discovery:
    """The discovery document at a URL (`http://host/cds-services`, or the base `http://host`; fetched
    with `headers`), in a file, or already parsed."""
    base_url = None
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        url = source.rstrip("/")
        if not urlsplit(url).path.endswith(DISCOVERY_PATH):
            url += DISCOVERY_PATH
        base_url = url.removesuffix(DISCOVERY_PATH)
        response = httpx.get(url, headers={"Accept": "application/json", **(headers or {})}, timeout=10)
        response.raise_for_status()
        document: Any = orjson.loads(response.content)
    elif isinstance(source, str | Path):
        document = orjson.loads(Path(source).read_bytes())
    elif isinstance(source, bytes):
        document = orjson.loads(source)
    else:
        document = source
    services = tuple(
        AdvertisedService(
            id=entry["id"],
            hook=entry["hook"],
            prefetch=tuple(parse_query(k, t) for k, t in (entry.get("prefetch") or {}).items()),
        )
        for entry in document["services"]
    )
    return Discovery(base_url=base_url, services=services)
