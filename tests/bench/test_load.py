"""The load generator counts what it sent and what failed, against a tiny local server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cds.bench.load import TRANSPORT_ERROR, run_load


class _Handler(BaseHTTPRequestHandler):
    """Answers 500 to a body containing "fail", 200 to anything else, on a keep-alive connection."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = b'{"cards":[]}'
        self.send_response(500 if b"fail" in body else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_every_request_is_counted_once(port: int) -> None:
    result = run_load("127.0.0.1", port, "/", [b"{}"], concurrency=3, requests=25)
    assert result.requests == 25
    assert result.statuses == {"200": 25}
    assert result.errors == 0


def test_non_2xx_answers_are_counted_as_errors(port: int) -> None:
    result = run_load("127.0.0.1", port, "/", [b"{}", b'{"fail":1}'], concurrency=2, requests=20)
    assert result.requests == 20
    assert result.errors == 10
    assert result.statuses == {"200": 10, "500": 10}


def test_warm_up_requests_are_not_counted(port: int) -> None:
    result = run_load("127.0.0.1", port, "/", [b"{}"], concurrency=2, requests=10, warmup=6)
    assert result.requests == 10


def test_latency_percentiles_come_from_successful_answers(port: int) -> None:
    result = run_load("127.0.0.1", port, "/", [b"{}"], concurrency=1, requests=10)
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms


def test_a_duration_run_stops_and_reports_its_rate(port: int) -> None:
    result = run_load("127.0.0.1", port, "/", [b"{}"], concurrency=2, duration=0.2)
    assert result.requests > 0
    assert result.requests_per_second > 0


def test_a_refused_connection_counts_every_request_as_a_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = run_load("127.0.0.1", closed_port, "/", [b"{}"], concurrency=2, requests=6)
    assert result.requests == 6
    assert result.errors == 6
    assert result.statuses == {TRANSPORT_ERROR: 6}


def test_asking_for_both_a_count_and_a_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="either requests or duration"):
        run_load("127.0.0.1", 1, "/", [b"{}"], concurrency=1, requests=1, duration=1.0)
