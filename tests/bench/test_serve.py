"""Server memory is read from /proc for the server process and every process under it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from cds.bench.serve import Server

PARENT_WITH_CHILD = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)


def _wait_for_child(server: Server) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = server.pids()
        if len(pids) == 2:
            return pids
        time.sleep(0.02)
    return server.pids()


def _running(pid: int) -> bool:
    """False for a process that is gone or a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_memory_counts_the_server_and_its_child_processes(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", PARENT_WITH_CHILD], stdout=subprocess.PIPE)
    server = Server(process, port=0, workers=1, log=tmp_path / "log")
    try:
        pids = _wait_for_child(server)
        assert pids[0] == process.pid
        assert len(pids) == 2
        assert server.rss_mb() > 0
    finally:
        server.stop()


def test_stopping_ends_the_child_processes_too(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", PARENT_WITH_CHILD], stdout=subprocess.PIPE)
    server = Server(process, port=0, workers=1, log=tmp_path / "log")
    child = _wait_for_child(server)[1]
    server.stop()
    time.sleep(0.1)
    assert process.poll() is not None
    assert not _running(child)
