"""Isolation: records evaluated at the same time from many threads give their one-at-a-time cards."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds.evaluation import Evaluator
from cds.testing.compare import comparable_cards
from cds.testing.library import response_of
from cds.testing.records import PatientRecord
from cds.testing.strategies import records_at_any_time

THREADS = 8
ROUNDS = 3


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=THREADS) as executor:
        yield executor


@given(st.lists(records_at_any_time(), min_size=2, max_size=6), st.randoms(use_true_random=False))
def test_concurrent_evaluations_give_the_one_at_a_time_cards(
    evaluator: Evaluator, pool: ThreadPoolExecutor, records: list[PatientRecord], shuffler: Any
) -> None:
    alone = [comparable_cards(response_of(evaluator, record)) for record in records]
    order = [index for index in range(len(records)) for _ in range(ROUNDS)]
    shuffler.shuffle(order)
    together = list(pool.map(lambda index: comparable_cards(response_of(evaluator, records[index])), order))
    assert together == [alone[index] for index in order]
