"""Starting `planted_service.py` in its own process, for the tests that drive it over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

PLANTED = Path(__file__).with_name("planted_service.py")
START_SECONDS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Run:
    """A planted service's process and URL, and what a suite run against it printed."""

    service: subprocess.Popen[bytes]
    url: str
    output: str = ""
    returncode: int = 0


def start_planted(bugs: list[str], trust: Path | None = None) -> Run:
    """The service, listening, with `bugs` planted and, given `trust`, JWTs required."""
    port = _free_port()
    command = [sys.executable, str(PLANTED), str(port), *(f"--bug={bug}" for bug in bugs)]
    if trust is not None:
        command += ["--trust", str(trust)]
    service = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}/cds-services"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if httpx.get(url).status_code == 200:
                return Run(service, url)
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
