"""Who used the cores during a load run: CPU time per call of the server's processes and of this client,
how long the server's threads waited for a core, and how much of the machine's time its hypervisor gave
to other guests (steal), all from /proc.

On a machine where the load client runs beside the server, two workers share the cores with the client;
these figures say how much of the cores each took (docs/bench.md, "Workers"), so a throughput figure
can be read with its cause beside it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class CallCpu(BaseModel):
    model_config = ConfigDict(frozen=True)

    server_ms: float
    """CPU time of the server's processes (every thread, the supervisor too) per call, read in clock ticks."""
    client_ms: float
    """CPU time of this process (the load client, all its threads), user and system, per call."""
    server_wait_ms: float
    """Time the server's threads were ready to run but waited for a core, per call."""


@dataclass(frozen=True)
class _Times:
    server_s: float
    server_wait_s: float
    client_s: float


_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _server_times(pids: Iterable[int]) -> tuple[float, float]:
    """CPU seconds of the processes (all their threads, finished ones too) and run-queue wait seconds of
    their live threads (schedstat, in ns)."""
    cpu = wait = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) * _TICK_S
        for task in tasks:
            try:
                wait += int((task / "schedstat").read_text().split()[1]) / 1e9
            except (OSError, ValueError, IndexError):
                continue
    return cpu, wait


def snapshot(pids: Iterable[int]) -> _Times:
    """The CPU clocks now, of the server's processes and of this one."""
    server, wait = _server_times(pids)
    return _Times(server_s=server, server_wait_s=wait, client_s=time.process_time())


def per_call(before: _Times, after: _Times, calls: int) -> CallCpu:
    """What each clock moved by between the snapshots, per call."""

    def ms(a: float, b: float) -> float:
        return round((b - a) / max(calls, 1) * 1000, 3)

    return CallCpu(
        server_ms=ms(before.server_s, after.server_s),
        client_ms=ms(before.client_s, after.client_s),
        server_wait_ms=ms(before.server_wait_s, after.server_wait_s),
    )


@dataclass(frozen=True)
class MachineTicks:
    """The machine's CPU time, all cores, in clock ticks: stolen by the hypervisor, and in all."""

    steal: int
    total: int


def machine_ticks(stat: Path = Path("/proc/stat")) -> MachineTicks | None:
    """None where the kernel does not report steal (not Linux, or a `cpu` line without it)."""
    try:
        with stat.open() as lines:
            first = lines.readline().split()
    except OSError:
        return None
    if len(first) < 9 or first[0] != "cpu":
        return None
    ticks = [int(value) for value in first[1:9]]
    return MachineTicks(steal=ticks[7], total=sum(ticks))


def steal_percent(spans: Iterable[tuple[MachineTicks | None, MachineTicks | None]]) -> float | None:
    """The stolen share of the machine's time over the spans (before, after), in percent; None when a
    span could not be read. On a shared host a run that misses a target by a few percent may owe it to
    this, and the report says so beside the figure."""
    steal = total = 0
    for before, after in spans:
        if before is None or after is None:
            return None
        steal += after.steal - before.steal
        total += after.total - before.total
    return round(100 * steal / total, 2) if total > 0 else None
