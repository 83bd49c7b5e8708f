"""Shared fixtures for the engine tests."""

import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest


@pytest.fixture
def run_isolated() -> Callable[[str], str]:
    """Run a script in a fresh interpreter, so a segfault fails one test instead of killing the run."""

    def run(script: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"exit status {result.returncode}\n{result.stderr}"
        return result.stdout

    return run
