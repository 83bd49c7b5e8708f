from pathlib import Path
from typing import Any

import orjson
import pytest

EXAMPLE = Path(__file__).parents[1] / "cards" / "data" / "neurology_referral.json"


@pytest.fixture
def response_json() -> dict[str, Any]:
    """A valid response with every kind of field; a fresh copy per test, so a test may break it in place."""
    loaded: dict[str, Any] = orjson.loads(EXAMPLE.read_bytes())
    return loaded
