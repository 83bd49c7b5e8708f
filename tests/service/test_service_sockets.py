"""Several workers: no Nagle stall on any connection; a listening socket and process metrics each."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from service_process import ServiceProcess

from cds.service.sockets import PortInUse, check_port_free, worker_socket


def _uvicorn_style_socket(port: int) -> socket.socket:
    """How uvicorn's multi-worker socket is made: proto 0, which asyncio does not recognise as TCP."""
    sock = socket.socket(socket.AF_INET)
    sock.bind(("127.0.0.1", port))
    return sock


def _nodelay_of_accepted_connection(sock: socket.socket) -> int:
    async def accept_one() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted = transport.get_extra_info("socket")
                seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname())
        try:
            return await asyncio.wait_for(seen, 5)
        finally:
            writer.close()
            server.close()

    return asyncio.run(accept_one())


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_every_connection_a_worker_accepts_has_tcp_nodelay() -> None:
    assert _nodelay_of_accepted_connection(worker_socket("127.0.0.1", _port())) == 1


def test_a_socket_made_as_uvicorn_makes_it_leaves_nagle_on() -> None:
    """The control: this is the socket that stalled every keep-alive call about 40 ms."""
    assert _nodelay_of_accepted_connection(_uvicorn_style_socket(_port())) == 0


def test_workers_can_each_listen_on_the_same_port() -> None:
    port = _port()
    first, second = worker_socket("127.0.0.1", port), worker_socket("127.0.0.1", port)
    first.listen()
    second.listen()
    assert first.getsockname() == second.getsockname()
    first.close()
    second.close()


def test_a_port_another_process_listens_on_is_refused_by_name() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"127.0.0.1:{port}"):
            check_port_free("127.0.0.1", port)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(tmp_path / "var", "--no-auth", "--workers", "2")
    try:
        yield service.start()
    finally:
        service.ensure_stopped()


def _listening_sockets(port: int) -> int:
    """LISTEN entries (state 0A) for the port in the kernel's table: one per listening socket."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local: Callable[[str], int] = lambda row: int(row.split()[1].split(":")[1], 16)  # noqa: E731
    return sum(1 for row in rows if local(row) == port and row.split()[3] == "0A")


@pytest.mark.slow
def test_each_of_two_workers_listens_on_a_socket_of_its_own(two_workers: ServiceProcess) -> None:
    deadline = time.monotonic() + 20  # the second worker may still be starting
    while _listening_sockets(two_workers.port) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _listening_sockets(two_workers.port) == 2


@pytest.mark.slow
def test_each_worker_reports_its_own_process_metrics(two_workers: ServiceProcess) -> None:
    def memory_by_pid() -> dict[str, float]:
        text = httpx.get(f"{two_workers.url}/metrics", timeout=5).text
        return {
            sample.labels["pid"]: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "cds_process_resident_memory_bytes"
        }

    def sampled() -> int:
        return sum(rss > 10_000_000 for rss in memory_by_pid().values())

    deadline = time.monotonic() + 30  # a worker still starting shows 0 until its first sample
    while sampled() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sampled() == 2
