"""Queries against the client's FHIR server, with every way such a call can go wrong made explicit.

The access token goes only to URLs under `fhirServer`, compared after normalisation (`cds.service.urls`)
and sent to the normalised URL: redirects are not followed and a `next` link that points elsewhere is
refused. Each failure carries the status the service answers with: 412 when the server refuses the
token or has no such patient, or may not be contacted at all (the client or operator can fix that),
504 on timeouts and 502 for everything else the server gets wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

import httpx

from cds.fhir import InputError, parse_json_bytes
from cds.fhir.unpack import outcome_text
from cds.service.addresses import is_address_refused
from cds.service.download import ACCEPT_ENCODING, BodyTooLarge, BodyUndecodable, read_limited
from cds.service.urls import NormalUrl, UrlRefused, normalise

FailureKind = Literal[
    "no-server",
    "not-allowed",
    "refused",
    "not-found",
    "timeout",
    "unreachable",
    "server-error",
    "invalid",
    "paging",
]
_STATUS: Mapping[FailureKind, int] = {
    "no-server": 412,
    "not-allowed": 412,
    "refused": 412,
    "not-found": 412,
    "timeout": 504,
}


class FetchFailure(Exception):
    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message

    @property
    def status(self) -> int:
        return _STATUS.get(self.kind, 502)


@dataclass(frozen=True)
class FhirServerClient:
    http: httpx.AsyncClient
    max_pages: int
    max_response_bytes: int

    async def fetch(self, base: str, url: str, token: str | None) -> dict[str, Any]:
        """The resource at url, or for a search every page of it merged into one searchset Bundle.

        `token` None queries an open server (`fhir_open_servers`) without an Authorization header.
        """
        first = await self._get(base, url, token)
        if first["resourceType"] != "Bundle":
            return first
        return await self.rest_of(base, first, token, seen={str(normalise(url))})

    async def rest_of(
        self, base: str, bundle: Mapping[str, Any], token: str | None, seen: set[str] | None = None
    ) -> dict[str, Any]:
        """The bundle with the entries of all its following pages, so the rules see the whole result."""
        entries = _entries(bundle)
        visited = set(seen or ())
        pages = 1
        next_url = _next_link(base, bundle)
        while next_url is not None:
            if next_url in visited:
                raise FetchFailure("paging", "the FHIR server's next link repeats a page already read")
            if pages >= self.max_pages:
                raise FetchFailure("paging", f"the FHIR server still had more pages after {self.max_pages}")
            visited.add(next_url)
            page = await self._get(base, next_url, token)
            if page["resourceType"] != "Bundle":
                raise FetchFailure("invalid", f"a next page is a {page['resourceType']}, not a Bundle")
            entries.extend(_entries(page))
            pages += 1
            next_url = _next_link(base, page)
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    async def _get(self, base: str, url: str, token: str | None) -> dict[str, Any]:
        target = within(base, url)
        headers = {"Accept": "application/fhir+json", "Accept-Encoding": ACCEPT_ENCODING}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self.http.stream("GET", str(target), headers=headers) as response:
                _check_status(response.status_code)
                body = await read_limited(response, self.max_response_bytes)
        except BodyTooLarge:
            raise FetchFailure(
                "invalid", f"the FHIR server's response is larger than {self.max_response_bytes} bytes"
            ) from None
        except BodyUndecodable as error:
            raise FetchFailure("invalid", f"the FHIR server's response cannot be decoded: {error}") from None
        except httpx.TimeoutException:
            raise FetchFailure("timeout", "the FHIR server did not answer in time") from None
        except httpx.HTTPError as error:
            if is_address_refused(error):
                raise FetchFailure(
                    "not-allowed",
                    "fhirServer resolves to an address that is not public "
                    "and not in outbound_private_networks",
                ) from None
            raise FetchFailure(
                "unreachable", f"cannot reach the FHIR server ({type(error).__name__})"
            ) from None
        except httpx.InvalidURL:
            raise FetchFailure("invalid", "the FHIR server's URL cannot be requested") from None
        return _resource(body)


def within(base: str, url: str) -> NormalUrl:
    """The normalised url, which must lie under the normalised base; raises FetchFailure otherwise."""
    try:
        target, root = normalise(url), normalise(base)
    except UrlRefused as error:
        raise FetchFailure("invalid", f"a FHIR server URL is refused: it {error}") from None
    if not target.is_within(root):
        raise FetchFailure("invalid", "the FHIR server's next link points outside fhirServer")
    return target


def _check_status(status: int) -> None:
    if status in (401, 403):
        raise FetchFailure(
            "refused", f"the FHIR server refused the access token in fhirAuthorization ({status})"
        )
    if status == 404:
        raise FetchFailure("not-found", "the FHIR server has no such resource (404)")
    if 300 <= status < 400:
        raise FetchFailure(
            "invalid", f"the FHIR server redirected ({status}); the token is not sent elsewhere"
        )
    if not 200 <= status < 300:
        raise FetchFailure("server-error", f"the FHIR server answered {status}")


def _resource(body: bytes) -> dict[str, Any]:
    try:
        value = parse_json_bytes(body)
    except InputError as error:
        raise FetchFailure("invalid", f"the FHIR server's answer is not JSON: {error}") from None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("resourceType"), str)
        or not value["resourceType"]
    ):
        raise FetchFailure("invalid", "the FHIR server's answer is not a FHIR resource")
    if value["resourceType"] == "OperationOutcome":
        raise FetchFailure(
            "server-error", f"the FHIR server answered an OperationOutcome: {outcome_text(value)}"
        )
    return value


def _entries(bundle: Mapping[str, Any]) -> list[Any]:
    entries = bundle.get("entry")
    return list(entries) if isinstance(entries, list) else []


def _next_link(base: str, bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        target = link.get("url") if isinstance(link, dict) and link.get("relation") == "next" else None
        if isinstance(target, str):
            return str(within(base, urljoin(base + "/", target)))
    return None


def has_next_link(bundle: Mapping[str, Any]) -> bool:
    links = bundle.get("link")
    return isinstance(links, list) and any(isinstance(x, dict) and x.get("relation") == "next" for x in links)
