"""Card and suggestion uuids: what `uuid.uuid4` would give for the same random bytes."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds.cards.render import new_uuid


@given(st.binary(min_size=16, max_size=16))
def test_a_new_uuid_is_the_uuid4_of_the_same_random_bytes(random: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "urandom", lambda size: random[:size])
        assert new_uuid() == str(uuid.UUID(bytes=random, version=4))


def test_new_uuids_are_random_version_4_uuids() -> None:
    made = [new_uuid() for _ in range(100)]
    assert len(set(made)) == 100
    assert all(uuid.UUID(u).version == 4 and uuid.UUID(u).variant == uuid.RFC_4122 for u in made)
