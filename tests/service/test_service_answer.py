"""When a call's objects are freed: after its answer has been sent, and not later than the call's end."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import orjson
import pytest
from service_helpers import PATIENT_VIEW, hook_call
from starlette.testclient import TestClient
from starlette.types import Message

from cds.bench.stages import post_scope
from cds.evaluation import Evaluation, Evaluator


def test_a_calls_evaluation_is_freed_after_its_answer_is_sent_and_by_the_calls_end(
    client: TestClient, urgent_prefetch: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluations: list[weakref.ref[Evaluation]] = []
    evaluate = Evaluator.evaluate

    def remembered(self: Evaluator, *args: Any, **kwargs: Any) -> Evaluation:
        evaluation = evaluate(self, *args, **kwargs)
        evaluations.append(weakref.ref(evaluation))
        return evaluation

    monkeypatch.setattr(Evaluator, "evaluate", remembered)
    body = orjson.dumps(hook_call(urgent_prefetch))
    alive_when_sent: list[bool] = []

    async def call() -> None:
        messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Message:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.body":
                alive_when_sent.append(evaluations[-1]() is not None)

        await client.app(post_scope(PATIENT_VIEW, body), receive, send)

    asyncio.run(call())
    assert alive_when_sent == [True]
    assert evaluations[-1]() is None
