"""Request bodies: size-limited before they are read, parsed strictly with orjson.

The declared Content-Length is checked first so an oversized body is refused without reading it;
chunked bodies are counted as they arrive. The ASGI messages are read directly (`Request.stream` is
an async generator that costs more than the reading for a small body), which is right because the
body is read once, here, by each endpoint that takes one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from cds.fhir import InputError, parse_json_bytes
from cds.service.errors import ServiceError


async def read_json(request: Request, limit: int, parse: Callable[[bytes], Any] = parse_json_bytes) -> Any:
    """Raises ServiceError: 413 over the limit, 400 for anything that is not one JSON document.

    `parse` is `parse_json_bytes` or one that refuses exactly what it refuses (`parse_hook_call`)."""
    declared = _declared_length(request.scope["headers"])
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            raise ServiceError.single(
                400, "incomplete", "body: the client left before sending it all", "body"
            )
        if kind != "http.request":
            continue
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    try:
        return parse(chunks[0] if len(chunks) == 1 else b"".join(chunks))
    except InputError as error:
        raise ServiceError.single(400, "structure", f"body: {error}", "body") from None


def _declared_length(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The Content-Length header, as `request.headers.get` finds it (ASGI header names are lower
    case), without building the Headers object."""
    for name, value in headers:
        if name == b"content-length":
            return value
    return None


def _too_large(limit: int) -> ServiceError:
    return ServiceError.single(
        413, "too-long", f"body: the request body is larger than {limit} bytes", "body"
    )
