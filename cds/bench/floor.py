"""The floor: a bare ASGI app that reads a call's body, parses it and answers `{"cards": []}`.

What the service costs is judged against what no service can avoid: receiving the body over HTTP and
turning it into Python objects. So the floor is served exactly as the service is (`cds.service.server
.serve`, the same uvicorn settings, connection limits and sockets, and the same `gc.freeze()` once it is
ready), and only the app differs. One variant parses with `json.loads`, one with `orjson.loads`.
GET answers `{"status": "ok", "pid": ...}`, so the benchmark can wait for it as it waits for the service.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from cds.service.server import serve
from cds.service.settings import load_settings

ANSWER = b'{"cards":[]}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]


def floor_app(parse: Callable[[bytes], Any]) -> ASGIApp:
    """The ASGI app of one floor variant."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["method"] == "GET":
            body = orjson.dumps({"status": "ok", "pid": os.getpid()})
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await _answer(send, body, headers)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        parse(b"".join(chunks))
        await _answer(send, ANSWER, _HEADERS)

    return app


async def _answer(send: Send, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            gc.collect()
            gc.freeze()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def json_floor() -> ASGIApp:
    """uvicorn factory: the json.loads floor."""
    return floor_app(json.loads)


def orjson_floor() -> ASGIApp:
    """uvicorn factory: the orjson.loads floor."""
    return floor_app(orjson.loads)


FACTORIES = {
    "json": "cds.bench.floor:json_floor",
    "orjson": "cds.bench.floor:orjson_floor",
}
"""Floor variant -> its uvicorn app factory."""


def main(argv: list[str] | None = None) -> None:
    """`python -c 'from cds.bench.floor import main; main()' VARIANT HOST PORT`: serve one floor variant
    with the service's own settings (environment included) and a throw-away data directory."""
    variant, host, port = argv or sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="cds-floor-") as data_dir:
        settings = load_settings(host=host, port=int(port), auth="off", data_dir=Path(data_dir), workers=1)
        sys.exit(serve(settings, app=FACTORIES[variant]))
