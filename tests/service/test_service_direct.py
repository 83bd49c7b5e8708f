"""A hook call answered by the direct route is answered byte for byte as the routed app answers it.

The routed app still answers a hook call under a root path or with an Origin header, so each case is
sent both ways and the two answers compared whole: status, every header in order, the body (card
uuids aside: they are new on every call).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from service_helpers import PATIENT_VIEW, MakeClient, TestClient, hook_call

from cds.evaluation import Evaluator
from cds.service import direct

REQUEST_ID = {"X-Request-Id": "same-id-both-ways"}
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the calls the direct route answered."""
    paths: list[str] = []
    original = direct.answer_directly

    async def spy(scope: Any, *args: Any) -> None:
        paths.append(scope["path"])
        await original(scope, *args)

    monkeypatch.setattr(direct, "answer_directly", spy)
    return paths


def _both_ways(client: TestClient, taken: list[str], **request: Any) -> Iterator[tuple[Any, ...]]:
    """The direct route's answer, then the routed app's (the same app under a root path)."""
    routed = TestClient(client.app, base_url=str(client.base_url), root_path="/cds")
    for sender in (client, routed):
        before = len(taken)
        response = sender.post(PATIENT_VIEW, **request, headers={**REQUEST_ID, **request.get("headers", {})})
        assert len(taken) - before == (1 if sender is client else 0)
        yield response.status_code, response.headers.raw, UUID.sub(b"uuid", response.content)


def _same_both_ways(client: TestClient, taken: list[str], **request: Any) -> int:
    direct_answer, routed_answer = _both_ways(client, taken, **request)
    assert direct_answer == routed_answer
    status: int = direct_answer[0]
    return status


def test_a_call_with_cards_is_answered_alike(
    client: TestClient, taken: list[str], urgent_prefetch: dict[str, Any]
) -> None:
    assert _same_both_ways(client, taken, json=hook_call(urgent_prefetch)) == 200


def test_a_body_that_is_not_json_is_refused_alike(client: TestClient, taken: list[str]) -> None:
    assert _same_both_ways(client, taken, content=b'{"hook": ') == 400


def test_a_call_for_the_wrong_hook_is_refused_alike(
    client: TestClient, taken: list[str], urgent_prefetch: dict[str, Any]
) -> None:
    body = hook_call(urgent_prefetch, hook="order-sign")
    assert _same_both_ways(client, taken, json=body) == 400


def test_a_call_without_its_required_data_is_refused_alike(client: TestClient, taken: list[str]) -> None:
    assert _same_both_ways(client, taken, json=hook_call()) == 412


def test_a_body_over_the_limit_is_refused_alike(make_client: MakeClient, taken: list[str]) -> None:
    client = make_client(max_request_bytes=1000)
    assert _same_both_ways(client, taken, content=b" " * 1001) == 413


def test_a_call_without_a_token_is_refused_alike(make_client: MakeClient, taken: list[str]) -> None:
    client = make_client(auth="jwt")
    assert _same_both_ways(client, taken, json=hook_call()) == 401


def test_a_bug_is_a_500_alike_and_logged_with_its_stack(
    make_client: MakeClient,
    taken: list[str],
    urgent_prefetch: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("a bug")

    client = make_client()
    monkeypatch.setattr(Evaluator, "evaluate", broken)
    caplog.set_level(logging.INFO, logger="cds")
    assert _same_both_ways(client, taken, json=hook_call(urgent_prefetch)) == 500
    errors = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "error"]
    assert len(errors) == 2
    assert all(r.exc_info is not None for r in errors)


def test_a_call_is_logged_and_labelled_alike(
    client: TestClient, taken: list[str], urgent_prefetch: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cds.http")
    list(_both_ways(client, taken, json=hook_call(urgent_prefetch)))
    lines = [dict(r.fields) for r in caplog.records if getattr(r, "fields", {}).get("event") == "request"]
    for line in lines:
        assert line.pop("duration_ms") >= 0
    assert len(lines) == 2
    assert lines[0] == lines[1]
    assert lines[0]["endpoint"] == "/cds-services/{service_id}"


def test_a_call_from_a_browser_takes_the_routed_app_and_gets_its_cors_headers(
    make_client: MakeClient, taken: list[str], urgent_prefetch: dict[str, Any]
) -> None:
    client = make_client(cors_origins=["https://ehr.example.org"])
    origin = {"Origin": "https://ehr.example.org"}
    response = client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch), headers=origin)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://ehr.example.org"
    assert taken == []


def test_a_call_for_an_unknown_service_is_left_to_the_routed_app(
    client: TestClient, taken: list[str]
) -> None:
    response = client.post("/cds-services/no-such-service", json=hook_call())
    assert response.status_code == 404
    assert orjson.loads(response.content)["issue"][0]["expression"] == ["id"]
    assert taken == []
