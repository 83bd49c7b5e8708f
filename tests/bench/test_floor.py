"""The floor app reads the whole body, parses it and answers no cards; it is served as the service is."""

from __future__ import annotations

import asyncio
import http.client
import json
import os

from starlette.types import Message

from cds.bench.floor import ANSWER, floor_app
from cds.bench.serve import HOST, running_server
from cds.bench.workload import SERVICE_PATH, BenchRequest


def _call(method: str, chunks: list[bytes], parsed: list[object]) -> list[Message]:
    """Runs the floor app on one request whose body arrives in `chunks`; returns what it sent."""
    app = floor_app(lambda body: parsed.append(json.loads(body)))
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def serve() -> None:
        await app({"type": "http", "method": method}, receive, send)

    asyncio.run(serve())
    return sent


def test_the_floor_parses_the_whole_body_before_answering_no_cards() -> None:
    parsed: list[object] = []
    sent = _call("POST", [b'{"hook": "patient-', b'view"}'], parsed)
    assert parsed == [{"hook": "patient-view"}]
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == ANSWER == b'{"cards":[]}'


def test_the_floor_answers_get_with_its_pid_as_the_service_healthz_does() -> None:
    sent = _call("GET", [b""], [])
    assert json.loads(sent[1]["body"])["pid"] == os.getpid()


def test_the_floor_server_answers_a_call_on_the_core_it_was_pinned_to(
    workload: dict[int, list[BenchRequest]],
) -> None:
    core = sorted(os.sched_getaffinity(0))[-1]
    body = workload[10][0].body
    with running_server(1, body, max_request_bytes=5_000_000, purpose="test", floor="orjson", core=core) as (
        server,
        start,
    ):
        assert os.sched_getaffinity(server.process.pid) == {core}
        connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        connection.request("POST", SERVICE_PATH, body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (200, ANSWER)
        connection.close()
        assert server.worker_pids == (server.process.pid,)
        assert server.worker_rss_mb()[0] > 0
    assert start.first_answer_s >= start.healthz_s
