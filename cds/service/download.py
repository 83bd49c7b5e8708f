"""Reading an outbound response body without letting the other side decide how much memory it costs.

httpx decodes gzip one network chunk at a time, and a 64 KB chunk of a gzip bomb inflates to tens of
megabytes before any limit can be checked (a 1 MB bomb cost 135 to 184 MB of RSS per call). So the
raw bytes are read here and inflated in steps of at most 64 KB, the decompressed total counted against
the limit as it grows; a body without Content-Length is cut off the moment it passes the limit. Only
the encodings the service asks for (gzip, deflate) are accepted.
"""

from __future__ import annotations

import zlib

import httpx

ACCEPT_ENCODING = "gzip, deflate"
_STEP = 65_536
_WINDOW = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")


class BodyUndecodable(Exception):
    """The Content-Encoding is not one the service asked for, or the body is not what it claims."""


async def read_limited(response: httpx.Response, limit: int) -> bytes:
    """The decoded body; raises BodyTooLarge past `limit` decoded bytes, BodyUndecodable for bad encodings."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    inflate = _decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    size = received = 0

    def keep(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise BodyTooLarge(limit)
        parts.append(data)

    async for raw in response.aiter_raw():
        if inflate is None:
            keep(raw)
            continue
        received += len(raw)
        if received > limit:
            raise BodyTooLarge(limit)
        if inflate.eof:
            raise BodyUndecodable("there is data after the compressed body")
        pending = raw
        while True:
            try:
                data = inflate.decompress(pending, _STEP)
            except zlib.error:
                raise BodyUndecodable("the body is not valid for its Content-Encoding") from None
            keep(data)
            pending = inflate.unconsumed_tail
            if not pending and len(data) < _STEP:
                break
    if inflate is not None and not inflate.eof:
        raise BodyUndecodable("the compressed body ends early")
    return b"".join(parts)


def _decoder(encoding: str) -> zlib._Decompress | None:
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in _WINDOW:
        raise BodyUndecodable("the Content-Encoding is not gzip or deflate, which are the ones asked for")
    return zlib.decompressobj(_WINDOW[name])
