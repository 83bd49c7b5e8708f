"""Reading a request body: whole however it is chunked, refused over the limit, 400 when the client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from starlette.requests import Request
from starlette.types import Message

from cds.bench.stages import post_scope
from cds.service.body import read_json
from cds.service.errors import ServiceError

LIMIT = 64


def _read(
    messages: Sequence[Message],
    headers: Sequence[tuple[bytes, bytes]] = (),
    received: list[Message] | None = None,
) -> object:
    """What read_json gives for these ASGI messages; those it asked for are added to `received`."""
    pending = list(messages)
    asked = [] if received is None else received

    async def receive() -> Message:
        asked.append(pending.pop(0) if pending else {"type": "http.disconnect"})
        return asked[-1]

    scope = post_scope("/cds-services/x", b"")
    scope["headers"] = [(b"content-type", b"application/json"), *headers]
    return asyncio.run(read_json(Request(scope, receive), LIMIT))


def _chunks(*parts: bytes) -> list[Message]:
    return [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
        for index, part in enumerate(parts)
    ]


def _error(
    messages: Sequence[Message],
    headers: Sequence[tuple[bytes, bytes]] = (),
    received: list[Message] | None = None,
) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        _read(messages, headers, received)
    return caught.value


def test_a_body_sent_in_chunks_is_read_whole() -> None:
    assert _read(_chunks(b'{"a":', b"", b"[1,2]}")) == {"a": [1, 2]}


def test_a_body_in_one_message_is_read_from_that_message_alone() -> None:
    received: list[Message] = []
    assert _read(_chunks(b'{"a":1}'), received=received) == {"a": 1}
    assert len(received) == 1


def test_a_client_that_leaves_before_the_end_of_its_body_gets_a_400() -> None:
    error = _error([*_chunks(b'{"a":', b"1}")[:1], {"type": "http.disconnect"}])
    assert error.status == 400
    assert "the client left before sending it all" in error.issues[0].diagnostics


def test_chunks_past_the_limit_are_refused_without_reading_the_rest() -> None:
    received: list[Message] = []
    error = _error(_chunks(b"[" + b"1," * 20, b"1," * 20, b"1]"), received=received)
    assert error.status == 413
    assert "larger than 64 bytes" in error.issues[0].diagnostics
    assert len(received) == 2


def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    received: list[Message] = []
    error = _error(_chunks(b"{}"), headers=[(b"content-length", b"65")], received=received)
    assert error.status == 413
    assert received == []


def test_a_body_that_is_not_json_gets_a_400_naming_the_body() -> None:
    error = _error(_chunks(b"{nope"))
    assert error.status == 400
    assert error.issues[0].diagnostics.startswith("body: invalid JSON")
