"""URLs compared the way a server will read them, so a prefix check cannot be fooled.

`{fhirServer}/../admin` starts with `fhirServer` as text but names a path outside it once the dot
segments are removed (RFC 3986 section 5.2.4), which every HTTP client and server does. So URLs are
compared as scheme, host, port and path segments after that removal, with `%2e` read as a dot the way
WHATWG URL parsers read it, and the request is sent to the normalised URL that was checked rather than
to the text it came from. Credentials in a URL are refused outright: httpx would send them as Basic
auth in place of the Bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_DOT = {".", "%2e"}
_DOT_DOT = {"..", ".%2e", "%2e.", "%2e%2e"}


class UrlRefused(ValueError):
    """A URL the service will not send a request to; the message says what is wrong, never the URL."""


@dataclass(frozen=True)
class NormalUrl:
    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]
    query: str

    def is_within(self, base: NormalUrl) -> bool:
        """Same origin and the base's path segments are a prefix of this URL's."""
        prefix = base.segments[:-1] if base.segments[-1:] == ("",) else base.segments
        return (self.scheme, self.host, self.port) == (base.scheme, base.host, base.port) and (
            self.segments[: len(prefix)] == prefix
        )

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")

    def __str__(self) -> str:
        text = self.origin + "/" + "/".join(self.segments)
        return f"{text}?{self.query}" if self.query else text


def normalise(url: str) -> NormalUrl:
    """Raises UrlRefused for anything but an absolute http(s) URL with a host, a valid port, no userinfo."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlRefused("must be an http or https URL")
    if "@" in parts.netloc:
        raise UrlRefused("must not carry credentials (user:password@); the access token is sent instead")
    if not parts.hostname:
        raise UrlRefused("must name a host")
    try:
        port = parts.port
    except ValueError:
        raise UrlRefused("the port must be a number from 1 to 65535") from None
    if port == 0:
        raise UrlRefused("the port must be a number from 1 to 65535")
    return NormalUrl(
        scheme=scheme,
        host=parts.hostname.rstrip("."),
        port=port or _DEFAULT_PORTS[scheme],
        segments=remove_dot_segments(parts.path),
        query=parts.query,
    )


def remove_dot_segments(path: str) -> tuple[str, ...]:
    """The path's segments as a server resolves them: `.` dropped, `..` removing the one before."""
    resolved: list[str] = []
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        lowered = segment.lower()
        if lowered in _DOT:
            if last:
                resolved.append("")
        elif lowered in _DOT_DOT:
            if resolved:
                resolved.pop()
            if last:
                resolved.append("")
        else:
            resolved.append(segment)
    return tuple(resolved)
