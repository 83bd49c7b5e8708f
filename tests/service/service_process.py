"""The real `cds serve` in a child process on a free loopback port, as an operator would run it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

CDS = Path(sys.executable).parent / "cds"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cds_environment() -> dict[str, str]:
    """The caller's environment without CDS_* settings, so only the test's flags apply."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CDS_")}


class ServiceProcess:
    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = {**cds_environment(), **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [str(CDS), "serve", "--port", str(self.port), "--data-dir", str(data_dir), *args]
        self.stdout = data_dir.parent / f"serve-{self.port}.out"
        self.stderr = data_dir.parent / f"serve-{self.port}.err"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        """Starts the process and waits for /healthz; the output goes to files, which never fill up."""
        with self.stdout.open("wb") as stdout, self.stderr.open("wb") as stderr:
            self.process = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=self.data_dir.parent,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.ensure_stopped()  # a start that fails leaves no `cds serve` (nor its workers) behind
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cds serve exited with {self.process.returncode}: {self.errors()}")
            if self._healthy():
                return
            time.sleep(0.05)
        raise RuntimeError("cds serve did not become healthy in time")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def health(self) -> dict[str, Any]:
        """From a fresh connection, so that with several workers any of them may answer."""
        with httpx.Client(timeout=5.0) as client:
            health: dict[str, Any] = client.get(f"{self.url}/healthz").json()
            return health

    def signal(self, signum: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signum)

    def kill_all(self) -> None:
        """SIGKILL to the parent and its workers at once: a crash, with no chance to clean up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, then the exit status once it has shut down."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8")

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8")

    def ensure_stopped(self) -> None:
        """SIGKILL to the whole process group: workers outlive a parent that has exited."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
