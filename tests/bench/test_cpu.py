"""Who used the cores during a run: the server's processes and this client, per call, from /proc."""

from __future__ import annotations

import subprocess
import sys
import time

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
