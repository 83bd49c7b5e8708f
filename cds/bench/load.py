"""A closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next request as soon as
the previous answer has arrived.

It runs as one process with one event loop (uvloop when installed) on raw asyncio streams, with every
request pre-serialised, so the client spends a few tens of microseconds per request and leaves the CPU to
the server it measures. A request counts as an error when the answer is not 2xx or the connection fails;
a failed connection is reopened and the loop goes on.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from cds.bench.stats import ms, percentile

TRANSPORT_ERROR = "transport"


class LoadResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    concurrency: int
    requests: int
    """Requests completed in the measured phase, answered or failed."""
    errors: int
    statuses: dict[str, int]
    """HTTP status (or "transport" for a failed connection or timeout) -> count."""
    duration_s: float
    requests_per_second: float
    p50_ms: float
    """Latency percentiles of the 2xx answers, from the first byte sent to the last byte received."""
    p90_ms: float
    p99_ms: float


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


class _Connection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> int:
        """The status of the answer; raises OSError, TimeoutError or ValueError when there is none."""
        async with asyncio.timeout(self.timeout):
            if self.streams is None:
                self.streams = await asyncio.open_connection(self.host, self.port)
            reader, writer = self.streams
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status, headers = _parse_head(head)
            if "content-length" in headers:
                await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                await _read_chunked(reader)
            else:
                raise ValueError("answer without Content-Length or chunked encoding")
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


def http_request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _worker(
    connection: _Connection,
    requests: Sequence[bytes],
    tickets: itertools.count[int],
    more: Callable[[int], bool],
    tally: _Tally,
) -> None:
    while more(ticket := next(tickets)):
        started = time.perf_counter()
        try:
            status = await connection.exchange(requests[ticket % len(requests)])
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            connection.close()
            tally.statuses[TRANSPORT_ERROR] += 1
            continue
        if 200 <= status < 300:
            tally.latencies.append(time.perf_counter() - started)
        tally.statuses[str(status)] += 1


async def _phase(
    connections: Sequence[_Connection], requests: Sequence[bytes], count: int | None, duration: float | None
) -> tuple[_Tally, float]:
    tally = _Tally()
    tickets = itertools.count()
    started = time.perf_counter()
    if count is not None:

        def more(ticket: int) -> bool:
            return ticket < count

    else:
        deadline = started + (duration or 0.0)

        def more(ticket: int) -> bool:
            return time.perf_counter() < deadline

    await asyncio.gather(*(_worker(c, requests, tickets, more, tally) for c in connections))
    return tally, time.perf_counter() - started


async def _load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    concurrency: int,
    count: int | None,
    duration: float | None,
    warmup: int,
    timeout: float,
) -> LoadResult:
    connections = [_Connection(host, port, timeout) for _ in range(concurrency)]
    try:
        if warmup:
            await _phase(connections, requests, warmup, None)
        tally, elapsed = await _phase(connections, requests, count, duration)
    finally:
        for connection in connections:
            connection.close()
    completed = sum(tally.statuses.values())
    ordered = sorted(tally.latencies)
    return LoadResult(
        concurrency=concurrency,
        requests=completed,
        errors=completed - len(ordered),
        statuses=dict(sorted(tally.statuses.items())),
        duration_s=round(elapsed, 3),
        requests_per_second=round(completed / elapsed, 1) if elapsed else 0.0,
        p50_ms=ms(percentile(ordered, 50)),
        p90_ms=ms(percentile(ordered, 90)),
        p99_ms=ms(percentile(ordered, 99)),
    )


def run_load(
    host: str,
    port: int,
    path: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int,
    requests: int | None = None,
    duration: float | None = None,
    warmup: int = 0,
    timeout: float = 60.0,
) -> LoadResult:
    """POSTs the bodies in turn: exactly `requests` of them, or as many as fit in `duration` seconds."""
    if (requests is None) == (duration is None):
        raise ValueError("give either requests or duration")
    prepared = [http_request(host, port, path, body) for body in bodies]
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_load(host, port, prepared, concurrency, requests, duration, warmup, timeout))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
