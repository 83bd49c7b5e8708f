"""The real service for the benchmark: `cds serve` on a free loopback port, timed from launch to first answer,
with its memory read from /proc.

Each server gets a fresh data directory (feedback store, pid file, log), so runs never share state, and
auth is off, which `cds serve` only allows on loopback. Memory is the sum of the resident set sizes of
the server process and all its descendants (uvicorn's worker processes).
"""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict

from cds.bench.load import run_load
from cds.bench.workload import SERVICE_PATH, BenchError

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
_POLL_S = 0.005
_PAGE = os.sysconf("SC_PAGE_SIZE")


class StartFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    workers: int
    purpose: str
    """What the server was started for: "latency" or "memory"."""
    healthz_s: float
    """From launching `cds serve` to the first 200 from GET /healthz."""
    first_answer_s: float
    """From launching `cds serve` to the first 200 answer to a patient-view call."""


class MemoryFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    workers: int
    resources: int
    concurrency: int
    first_requests: int
    total_requests: int
    rss_after_first_mb: float
    rss_after_total_mb: float
    growth_percent: float
    errors: int
    duration_s: float


class ConnectionSplit(BaseModel):
    model_config = ConfigDict(frozen=True)

    workers: int
    connections: int
    rounds: list[tuple[int, ...]]
    """Per round, how many of the connections each worker holds, most first (16:0 is one worker doing all)."""


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, workers: int, log: Path) -> None:
        self.process, self.port, self.workers, self.log = process, port, workers, log
        self.worker_pids: tuple[int, ...] = ()
        """The pids that answered /healthz: the processes that serve calls."""

    def pids(self) -> list[int]:
        """The server process and every descendant, from the parent links in /proc."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parent = int(stat.rpartition(")")[2].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending.extend(children.get(pid, ()))
        return found

    def rss_mb(self) -> float:
        return round(sum(_rss_bytes(pid) for pid in self.pids()) / 2**20, 1)

    def worker_rss_mb(self) -> tuple[float, ...]:
        """The resident set of each process that serves calls, without the supervisor of several."""
        return tuple(round(_rss_bytes(pid) / 2**20, 1) for pid in self.worker_pids)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL for whatever of the server's own processes is still there."""
        pids = self.pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in pids[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError):
        return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _post(port: int, path: str, body: bytes) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def _until_healthy(server: Server, deadline: float) -> None:
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"`cds serve` exited with status {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            if _get(server.port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(_POLL_S)
    raise BenchError(
        f"`cds serve` did not answer /healthz within {STARTUP_TIMEOUT_S:g} s:\n{server.log_tail()}"
    )


def _until_all_workers(server: Server, deadline: float) -> set[int]:
    """Each worker answers /healthz with its pid; a new connection per call lets the kernel pick one."""
    seen: set[int] = set()
    while len(seen) < server.workers:
        if time.perf_counter() > deadline:
            raise BenchError(
                f"only {len(seen)} of {server.workers} workers answered within {STARTUP_TIMEOUT_S:g} s"
            )
        try:
            status, body = _get(server.port, "/healthz")
        except OSError:
            continue
        if status == 200:
            seen.add(int(orjson.loads(body)["pid"]))
    return seen


def _launcher(entry: str, core: int | None) -> list[str]:
    """A Python command line running `entry` (a module with `main`), pinned to `core` from its first
    instruction, so every thread and worker process it starts inherits the pinning."""
    pin = f"import os; os.sched_setaffinity(0, {{{core}}}); " if core is not None else ""
    return [sys.executable, "-c", f"{pin}from {entry} import main; main()"]


@contextmanager
def running_server(
    workers: int,
    first_body: bytes,
    *,
    max_request_bytes: int,
    purpose: str,
    floor: str | None = None,
    core: int | None = None,
) -> Iterator[tuple[Server, StartFigure]]:
    """Starts `cds serve` (or the `floor` app variant of `cds.bench.floor`, served the same way), times it
    to /healthz and to a first answer, waits for every worker, stops it. `core`: the one core it may use."""
    with tempfile.TemporaryDirectory(prefix="cds-bench-") as data_dir:
        port = free_port()
        log = Path(data_dir) / "server.log"
        if floor is None:
            command = [*_launcher("cds.cli.main", core), "serve", "--no-auth", "--host", HOST]
            command += ["--port", str(port), "--workers", str(workers), "--data-dir", data_dir]
        else:
            command = [*_launcher("cds.bench.floor", core), floor, HOST, str(port)]
        env = {**os.environ, "CDS_MAX_REQUEST_BYTES": str(max_request_bytes)}
        with log.open("wb") as output:
            launched = time.perf_counter()
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        server = Server(process, port, workers, log)
        try:
            deadline = launched + STARTUP_TIMEOUT_S
            _until_healthy(server, deadline)
            healthy = time.perf_counter()
            status = _post(port, SERVICE_PATH, first_body)
            answered = time.perf_counter()
            if status != 200:
                raise BenchError(f"the first patient-view call got HTTP {status}:\n{server.log_tail()}")
            server.worker_pids = tuple(sorted(_until_all_workers(server, deadline)))
            start = StartFigure(
                workers=workers,
                purpose=purpose,
                healthz_s=round(healthy - launched, 3),
                first_answer_s=round(answered - launched, 3),
            )
            yield server, start
        finally:
            server.stop()


def measure_memory(
    server: Server, bodies: list[bytes], resources: int, *, first: int, total: int, concurrency: int
) -> MemoryFigure:
    """Server memory after `first` calls and after `total`, on a server that has answered nothing else."""
    started = time.perf_counter()
    early = run_load(HOST, server.port, SERVICE_PATH, bodies, concurrency=concurrency, requests=first)
    rss_first = server.rss_mb()
    late = run_load(HOST, server.port, SERVICE_PATH, bodies, concurrency=concurrency, requests=total - first)
    rss_total = server.rss_mb()
    return MemoryFigure(
        workers=server.workers,
        resources=resources,
        concurrency=concurrency,
        first_requests=first,
        total_requests=total,
        rss_after_first_mb=rss_first,
        rss_after_total_mb=rss_total,
        growth_percent=round((rss_total / rss_first - 1) * 100, 1),
        errors=early.errors + late.errors,
        duration_s=round(time.perf_counter() - started, 1),
    )


def measure_split(server: Server, connections: int = 16, rounds: int = 5) -> ConnectionSplit:
    """Opens the connections all at once, as the load generator does, and asks each which worker holds it."""
    return ConnectionSplit(
        workers=server.workers,
        connections=connections,
        rounds=[asyncio.run(_split_once(server.port, connections, server.workers)) for _ in range(rounds)],
    )


async def _split_once(port: int, connections: int, workers: int) -> tuple[int, ...]:
    streams = await asyncio.gather(*(asyncio.open_connection(HOST, port) for _ in range(connections)))
    holders: Counter[int] = Counter()
    try:
        for reader, writer in streams:
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode("ascii"))
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            holders[int(orjson.loads(await reader.readexactly(length))["pid"])] += 1
    finally:
        for _, writer in streams:
            writer.close()
    shares = sorted(holders.values(), reverse=True)
    return tuple(shares + [0] * (workers - len(shares)))
