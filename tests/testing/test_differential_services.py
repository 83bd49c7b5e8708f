"""Two running services compared on the same generated calls: where they differ, both answers and curl
lines are reported; where they agree, nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import Phase, find, settings
from planted_process import Run, start_planted

from cds.testing.differential import service_difference
from cds.testing.harness import HttpService
from cds.testing.requests import from_discovery

SEARCH = settings(max_examples=30, phases=[Phase.generate], database=None, derandomize=True)


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[Run, Run]]:
    pair = (start_planted([]), start_planted(["ignores-null-patient"]))
    yield pair
    for run in pair:
        run.service.terminate()
        run.service.wait(timeout=10)


def test_services_that_differ_on_a_null_patient_are_told_apart(services: tuple[Run, Run]) -> None:
    calls = from_discovery(services[0].url, prefetch="short")
    first, second = (
        HttpService(calls),
        HttpService(calls, base_url=services[1].url.removesuffix("/cds-services")),
    )
    found = find(
        calls.any(), lambda call: service_difference(first, second, call) is not None, settings=SEARCH
    )
    difference = service_difference(first, second, found) or ""
    assert "answered 412" in difference and "answered 200" in difference
    assert difference.count("curl -sS") == 2


def test_a_service_agrees_with_itself(services: tuple[Run, Run]) -> None:
    calls = from_discovery(services[0].url, prefetch="complete")
    first = HttpService(calls)
    call = find(calls.any(), lambda call: True, settings=SEARCH)
    assert service_difference(first, first, call) is None
