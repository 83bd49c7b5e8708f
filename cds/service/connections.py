"""Connection limits uvicorn does not have: header size, and read deadlines for headers and body.

What uvicorn 0.54 offers was measured: `timeout_keep_alive` only closes a connection idle *between*
requests; `limit_concurrency` answers 503 beyond N connections but holds the N; and
`h11_max_incomplete_event_size` bounds the headers only under h11, which is about 40 % slower than
httptools here. Under httptools nothing bounded the headers (a 64 MB `Authorization` header was read
whole, worker RSS +60 MB) and nothing timed a request while it arrived (200 slowloris connections all
held after 60 s; a body stopping after 2 of 100 declared bytes held for ever). So the httptools
protocol is extended here rather than swapping the server (hypercorn has read timeouts but is slower
still; granian is not an asyncio server the app's lifespan and reload rely on):

- the bytes received before the headers complete are counted as they arrive (each feed is at most
  one socket read, 256 KB), and each header as the parser completes it, alone and in the running
  total: over a limit the answer is 431 and the connection is closed, before any handler or auth runs;
- from connect (or the first byte of the next request on a kept-alive connection) the headers must
  be complete within `header_timeout_seconds`, and once they are, a body within
  `body_timeout_seconds`; otherwise the connection is answered 408 (if nothing was sent yet) and closed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cds.service.errors import Issue, OperationOutcome
from cds.service.settings import Settings


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    max_headers_bytes: int
    header_timeout_seconds: float
    body_timeout_seconds: float


class LimitedConfig(uvicorn.Config):
    """uvicorn's Config carrying the limits to each connection's protocol; picklable for spawned workers."""

    def __init__(self, app: Any, *, limits: ConnectionLimits, **options: Any) -> None:
        super().__init__(app, http=LimitedHttpToolsProtocol, **options)
        self.limits = limits


def _refusal(status: int, reason: str, diagnostics: str) -> bytes:
    code = "too-long" if status == 431 else "timeout"
    outcome = OperationOutcome(issue=(Issue(code=code, diagnostics=diagnostics),))
    body = orjson.dumps(outcome.model_dump(mode="json", exclude_none=True))
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/fhir+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        assert isinstance(config, LimitedConfig), "serve with LimitedConfig, which carries the limits"
        self.limits = config.limits
        self._reading_headers = True
        self._header_bytes = self._parsed_bytes = 0
        self._too_large = False
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout_seconds, "the request headers did not arrive in time")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        super().data_received(data)
        if self._reading_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_headers_bytes or self._too_large:
                self._refuse_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_headers, self._too_large = True, False
        self._header_bytes = self._parsed_bytes = 0
        self._arm(self.limits.header_timeout_seconds, "the request headers did not arrive in time")

    def on_url(self, url: bytes) -> None:
        self._parsed_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        self._parsed_bytes += size
        if size > self.limits.max_header_bytes or self._parsed_bytes > self.limits.max_headers_bytes:
            self._too_large = True
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        if self._too_large:
            self._refuse_headers()
            return
        super().on_headers_complete()
        self._arm(self.limits.body_timeout_seconds, "the request body did not arrive in time")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _refuse_headers(self) -> None:
        self._disarm()
        self.transport.write(
            _refusal(
                431,
                "Request Header Fields Too Large",
                f"headers: each header must be under {self.limits.max_header_bytes} bytes and all of "
                f"them under {self.limits.max_headers_bytes}",
            )
        )
        self.transport.close()

    def _arm(self, seconds: float, diagnostics: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, diagnostics)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, diagnostics: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_refusal(408, "Request Timeout", diagnostics))
        self.transport.close()


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        max_headers_bytes=settings.max_headers_bytes,
        header_timeout_seconds=settings.header_timeout_seconds,
        body_timeout_seconds=settings.body_timeout_seconds,
    )
