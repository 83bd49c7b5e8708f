"""The HTTP harness: a dead service stops the run naming the last call, every failure carries a curl line,
and shrinking stops once its time is spent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import find

from cds.testing.harness import HttpService, ServiceDied, ShrinkingStopped
from cds.testing.requests import HookCall, ServiceCalls, from_discovery
from cds.testing.strategies import patient_records

DISCOVERY = Path(__file__).parent / "data" / "discovery.json"
BASE = "http://service.test"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(scope="module")
def calls() -> ServiceCalls:
    return from_discovery(DISCOVERY, patient_records(now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC)))


@pytest.fixture(scope="module")
def call(calls: ServiceCalls) -> HookCall:
    return find(calls["static-patient-view"], lambda call: True)


def _service(calls: ServiceCalls, answer: Handler, **options: float) -> HttpService:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"services": []})
        return answer(request)

    return HttpService(calls, base_url=BASE, transport=httpx.MockTransport(handler), **options)


def test_a_valid_answer_passes(calls: ServiceCalls, call: HookCall) -> None:
    _service(calls, lambda request: httpx.Response(200, json={"cards": []})).send(call).assert_conforms()


def test_a_200_that_is_not_json_fails_with_a_curl_line(calls: ServiceCalls, call: HookCall) -> None:
    answer = _service(calls, lambda request: httpx.Response(200, content=b"<html>")).send(call)
    with pytest.raises(AssertionError) as failure:
        answer.assert_conforms()
    assert "$: not valid JSON" in str(failure.value)
    assert f"curl -sS -i -X POST {BASE}/cds-services/static-patient-view" in str(failure.value)


def test_a_server_error_fails(calls: ServiceCalls, call: HookCall) -> None:
    answer = _service(calls, lambda request: httpx.Response(503)).send(call)
    with pytest.raises(AssertionError, match="a 503 server error"):
        answer.assert_no_server_error()


def test_a_service_that_never_answered_stops_the_run(calls: ServiceCalls, call: HookCall) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    service = HttpService(calls, base_url=BASE, transport=httpx.MockTransport(refuse))
    with pytest.raises(ServiceDied, match="it was not answering when the run began"):
        service.send(call)


def test_a_service_that_dies_on_a_call_is_named_with_that_call(calls: ServiceCalls, call: HookCall) -> None:
    dead = False

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal dead
        if dead:
            raise httpx.ConnectError("refused", request=request)
        if request.method == "POST":
            dead = True
            raise httpx.RemoteProtocolError("the server went away", request=request)
        return httpx.Response(200, json={"services": []})

    service = HttpService(calls, base_url=BASE, transport=httpx.MockTransport(handler))
    with pytest.raises(ServiceDied, match="died on this call:\ncurl -sS"):
        service.send(call)
    with pytest.raises(ServiceDied, match="is not answering; the last call sent:\ncurl -sS"):
        service.send(call)


def test_shrinking_stops_once_its_time_is_spent(calls: ServiceCalls, call: HookCall) -> None:
    service = _service(calls, lambda request: httpx.Response(500), shrink_seconds=0)
    with pytest.raises(AssertionError):
        service.send(call).assert_no_server_error()
    with pytest.raises(ShrinkingStopped, match="a 500 server error"):
        service.send(call)


def test_a_dead_service_is_not_an_ordinary_failure_hypothesis_would_shrink() -> None:
    assert not issubclass(ServiceDied, Exception)
