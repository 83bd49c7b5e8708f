"""Whether a parser takes a text, for the tests that hold the fast reader's text checks to orjson, the
parser of the validating path."""

from __future__ import annotations

import orjson


def orjson_takes(text: bytes) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True
