"""Who used the cores during a run: the server's processes and this client, per call, from /proc."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from cds.bench import cpu

_BUSY_S = 0.3


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_servers_cpu_is_read_from_every_thread_of_its_processes() -> None:
    spinner = "import threading, time\n" + "\n".join(
        [
            "def spin():",
            f"    end = time.thread_time() + {_BUSY_S / 2}",
            "    while time.thread_time() < end: pass",
            "worker = threading.Thread(target=spin); worker.start(); spin(); worker.join()",
            "print('done', flush=True); input()",
        ]
    )
    child = subprocess.Popen([sys.executable, "-c", spinner], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        before = cpu.snapshot([child.pid])
        assert child.stdout is not None and child.stdout.readline() == b"done\n"
        used = cpu.per_call(before, cpu.snapshot([child.pid]), calls=10)
    finally:
        child.communicate(b"\n", timeout=30)
    assert _BUSY_S / 10 * 1000 * 0.9 <= used.server_ms < _BUSY_S / 10 * 1000 * 3


def test_the_clients_cpu_is_this_process() -> None:
    before = cpu.snapshot([])
    _spin(0.1)
    used = cpu.per_call(before, cpu.snapshot([]), calls=4)
    assert 25 <= used.client_ms < 50
    assert (used.server_ms, used.server_wait_ms) == (0, 0)


def _stat(tmp_path: Path, first_line: str) -> Path:
    path = tmp_path / "stat"
    path.write_text(first_line + "\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    return path


def test_the_machines_steal_and_total_ticks_are_read_from_the_cpu_line(tmp_path: Path) -> None:
    ticks = cpu.machine_ticks(_stat(tmp_path, "cpu  100 5 20 800 3 0 2 70 0 0"))
    assert ticks == cpu.MachineTicks(steal=70, total=1000)


def test_a_kernel_that_reports_no_steal_gives_no_ticks(tmp_path: Path) -> None:
    assert cpu.machine_ticks(_stat(tmp_path, "cpu  100 5 20 800")) is None
    assert cpu.machine_ticks(tmp_path / "missing") is None


def test_steal_is_the_stolen_share_of_all_the_spans_together() -> None:
    def span(steal: int, total: int) -> tuple[cpu.MachineTicks, cpu.MachineTicks]:
        return cpu.MachineTicks(steal=0, total=0), cpu.MachineTicks(steal=steal, total=total)

    assert cpu.steal_percent([span(10, 100), span(0, 300)]) == 2.5


def test_steal_is_unknown_when_any_span_could_not_be_read() -> None:
    known = (cpu.MachineTicks(steal=0, total=0), cpu.MachineTicks(steal=1, total=10))
    assert cpu.steal_percent([known, (None, known[1])]) is None
    assert cpu.steal_percent([]) is None


def test_this_machines_ticks_move_forward() -> None:
    before = cpu.machine_ticks()
    _spin(0.05)
    after = cpu.machine_ticks()
    if before is None or after is None:
        return
    assert after.total > before.total and after.steal >= before.steal
