"""The real `cds serve` against clients that send too much or too slowly (issue 10)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from service_process import ServiceProcess

pytestmark = pytest.mark.slow
LIMITS = (
    "header_timeout_seconds: 1\nbody_timeout_seconds: 1\nmax_header_bytes: 4096\nmax_headers_bytes: 16384\n"
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("connections")
    config = root / "cds.yaml"
    config.write_text(LIMITS, encoding="utf-8")
    started = ServiceProcess(root / "var", "--no-auth", "--config", str(config)).start()
    yield started
    started.ensure_stopped()


def _connect(service: ServiceProcess) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", service.port), timeout=5.0)
    return connection


def _answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    try:
        while chunk := connection.recv(65_536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def _request(path: str, *headers: str, body: bytes = b"", method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def test_a_header_over_the_per_header_limit_is_a_431_before_any_handler(service: ServiceProcess) -> None:
    with _connect(service) as connection:
        connection.sendall(_request("/cds-services", "Authorization: Bearer " + "a" * 8_000))
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"OperationOutcome" in answer


def test_headers_over_the_total_limit_are_a_431(service: ServiceProcess) -> None:
    many = [f"X-Padding-{index}: {'p' * 1_000}" for index in range(20)]
    with _connect(service) as connection:
        connection.sendall(_request("/cds-services", *many))
        assert _answer(connection).startswith(b"HTTP/1.1 431 ")


def test_a_huge_header_is_cut_off_as_it_arrives(service: ServiceProcess) -> None:
    sent = 0
    with _connect(service) as connection:
        connection.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
        try:
            while sent < 64_000_000:
                connection.sendall(b"a" * 65_536)
                sent += 65_536
        except OSError:
            pass
    assert sent < 16_000_000
    assert httpx.get(f"{service.url}/healthz").status_code == 200


def test_headers_that_trickle_in_are_dropped_at_the_header_deadline(service: ServiceProcess) -> None:
    connections = [_connect(service) for _ in range(20)]
    started = time.monotonic()
    for connection in connections:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    closed: list[float] = []
    try:
        while len(closed) < len(connections) and time.monotonic() - started < 5:
            for connection in connections:
                if connection.fileno() == -1:
                    continue
                try:
                    connection.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    closed.append(time.monotonic() - started)
                    connection.close()
            time.sleep(0.2)
    finally:
        for connection in connections:
            connection.close()
    assert len(closed) == len(connections)
    assert max(closed) < 3.0


def test_a_connection_that_never_sends_is_dropped(service: ServiceProcess) -> None:
    with _connect(service) as connection:
        started = time.monotonic()
        answer = _answer(connection)
    assert time.monotonic() - started < 3.0
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_body_that_stops_after_2_of_100_bytes_is_dropped_at_the_body_deadline(
    service: ServiceProcess,
) -> None:
    request = _request(
        "/cds-services/spasm-patient-view",
        "Content-Type: application/json",
        "Content-Length: 100",
        body=b"{}",
        method="POST",
    )
    with _connect(service) as connection:
        connection.sendall(request)
        started = time.monotonic()
        answer = _answer(connection)
    assert time.monotonic() - started < 3.0
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_call_within_the_limits_is_answered(service: ServiceProcess) -> None:
    response = httpx.get(f"{service.url}/cds-services", headers={"X-Fine": "f" * 2_000})
    assert response.status_code == 200
