"""What a hook call leaves behind (its audit record and issued cards, its card metrics, the rule ids of
its log line) is made once its answer is sent, by either route, even when the client has left, and a
failure there never takes back the answer already sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, NoReturn

import orjson
import pytest
from service_helpers import PATIENT_VIEW, MakeClient, hook_call, metric_sample
from starlette.testclient import TestClient
from starlette.types import Message

from cds.bench.stages import post_scope
from cds.service import metrics
from cds.service.background import BoundedWorker
from cds.service.logging import JsonFormatter
from cds.service.state import ServiceState

BROWSER = (b"origin", b"https://ehr.example.org")
"""A call with an Origin header takes the routed app (CORS), one without it the direct route."""


def _state(client: TestClient) -> ServiceState:
    state = client.app.state.service  # type: ignore[attr-defined]
    assert isinstance(state, ServiceState)
    return state


def _call(
    client: TestClient, body: bytes, headers: list[tuple[bytes, bytes]], send: Callable[[Message], Any]
) -> None:
    """The call straight through ASGI, each message the app sends handed to `send`."""
    scope = post_scope(PATIENT_VIEW, body)
    scope["headers"] = [*scope["headers"], *headers]
    messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def sending(message: Message) -> None:
        send(message)

    async def call() -> None:
        await client.app(scope, receive, sending)

    asyncio.run(call())


@pytest.fixture
def events(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What happened, in order: the answer's last byte sent, the audit hand-off, a card counted."""
    happened: list[str] = []
    audit = _state(client).audit
    offer = audit.offer

    def offered(item: Any) -> bool:
        happened.append("audit")
        return offer(item)

    card_issued = metrics.card_issued

    def counted(rule: str, indicator: str) -> None:
        happened.append("card metric")
        card_issued(rule, indicator)

    monkeypatch.setattr(audit, "offer", offered)
    monkeypatch.setattr(metrics, "card_issued", counted)
    return happened


def _sent(happened: list[str]) -> Callable[[Message], None]:
    def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            happened.append("sent")

    return send


@pytest.mark.parametrize("headers", [[], [BROWSER]], ids=["direct route", "routed app"])
def test_a_calls_records_are_made_after_its_answer_is_sent(
    client: TestClient, urgent_prefetch: dict[str, Any], events: list[str], headers: list[tuple[bytes, bytes]]
) -> None:
    _call(client, orjson.dumps(hook_call(urgent_prefetch)), headers, _sent(events))
    assert events == ["sent", "audit", "card metric"]


@pytest.mark.parametrize("headers", [[], [BROWSER]], ids=["direct route", "routed app"])
def test_a_call_whose_client_left_before_the_answer_still_leaves_its_records(
    client: TestClient, urgent_prefetch: dict[str, Any], events: list[str], headers: list[tuple[bytes, bytes]]
) -> None:
    def gone(message: Message) -> NoReturn:
        raise OSError("the client has gone")

    with contextlib.suppress(OSError):
        _call(client, orjson.dumps(hook_call(urgent_prefetch)), headers, gone)
    assert events == ["audit", "card metric"]


def test_the_access_log_line_of_an_answered_call_carries_its_rule_ids_and_status(
    client: TestClient, urgent_prefetch: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cds")
    client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch), headers={"X-Request-Id": "after-1"})
    lines = [orjson.loads(JsonFormatter().format(r)) for r in caplog.records if r.getMessage() == "request"]
    assert [(line["request_id"], line["status"], line["rule_ids"]) for line in lines] == [
        ("after-1", 200, ["spasm-urgent-red-flag"])
    ]


def test_a_failure_after_the_answer_is_logged_without_its_message_and_the_answer_stands(
    make_client: MakeClient,
    urgent_prefetch: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client()
    caplog.set_level(logging.INFO, logger="cds")
    clinical_value = "potassium 2.1 mmol/L"

    def fail(*_: Any) -> NoReturn:
        raise RuntimeError(clinical_value)

    monkeypatch.setattr(metrics, "card_issued", fail)
    before = metric_sample(
        client, "cds_http_requests_total", endpoint="/cds-services/{service_id}", method="POST", status="200"
    )
    response = client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    assert response.status_code == 200
    assert [card["source"]["topic"]["code"] for card in response.json()["cards"]] == ["spasm-urgent-red-flag"]
    failures = [JsonFormatter().format(r) for r in caplog.records if r.exc_info]
    assert len(failures) == 1
    assert "RuntimeError" in failures[0] and "potassium" not in failures[0]
    lines = [orjson.loads(JsonFormatter().format(r)) for r in caplog.records if r.getMessage() == "request"]
    calls = [line for line in lines if line["endpoint"] == "/cds-services/{service_id}"]
    assert [(line["status"], line["rule_ids"]) for line in calls] == [(200, ["spasm-urgent-red-flag"])]
    after = metric_sample(
        client, "cds_http_requests_total", endpoint="/cds-services/{service_id}", method="POST", status="200"
    )
    assert after == before + 1


def test_a_failure_of_the_card_metrics_loses_no_audit_record(
    make_client: MakeClient, urgent_prefetch: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()

    def fail(*_: Any) -> NoReturn:
        raise RuntimeError("metrics are broken")

    monkeypatch.setattr(metrics, "card_issued", fail)
    client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    state = _state(client)
    assert state.audit.wait_idle(10)
    assert [call.rule_ids for call in state.store.calls()] == [("spasm-urgent-red-flag",)]


def test_a_full_audit_queue_still_writes_the_record_in_the_calls_turn(
    make_client: MakeClient, urgent_prefetch: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()
    monkeypatch.setattr(BoundedWorker, "offer", lambda self, item: False)
    client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    assert [call.rule_ids for call in _state(client).store.calls()] == [("spasm-urgent-red-flag",)]
