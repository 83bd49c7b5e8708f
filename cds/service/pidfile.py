"""The pid file in the data directory: how `cds reload` finds the running service, and how a second
`cds serve` on the same data directory is stopped before it starts."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from cds.errors import CdsError


class PidFileError(CdsError, RuntimeError):
    """Another `cds serve` already uses this data directory, or the pid file cannot be written."""


class PidFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def running(self) -> int | None:
        """The pid recorded, if that process is still alive."""
        try:
            pid = int(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def __enter__(self) -> PidFile:
        other = self.running()
        if other is not None and other != os.getpid():
            raise PidFileError(
                f"{self.path}: another cds serve (pid {other}) uses this data directory; "
                "stop it or give this one another --data-dir"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(f"{os.getpid()}\n", encoding="ascii")
        temporary.replace(self.path)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.running() == os.getpid():
            self.path.unlink(missing_ok=True)
