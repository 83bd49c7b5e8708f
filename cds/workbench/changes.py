"""changes.csv: every patient whose cards changed, sorted by patient id as the report's tables are.

Changes arrive in the order the workers finish. They are sorted in runs of at most `run_rows`, each run
spilled to disk, and the runs merged at the end, so a population of any size is sorted in bounded memory.
"""

from __future__ import annotations

import csv
import heapq
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cds.workbench.tally import PatientChange

COLUMNS = ("patient_id", "source", "before_top", "after_top", "before_cards", "after_cards", "why")
RUN_ROWS = 50_000
"""About 10 MB of rows held at once."""

Row = tuple[str, ...]


def change_row(change: PatientChange) -> Row:
    return (
        change.patient_id,
        change.source,
        change.before_top,
        change.after_top,
        " ".join(change.before_cards),
        " ".join(change.after_cards),
        change.why,
    )


class SortedChanges:
    """Collects changes with `add`; `close` writes them to `path`, sorted, with a header row."""

    def __init__(self, path: Path, *, run_rows: int = RUN_ROWS) -> None:
        self._path = path
        self._run_rows = run_rows
        self._rows: list[Row] = []
        self._scratch = tempfile.TemporaryDirectory(prefix=".changes-", dir=path.parent)
        self._runs: list[Path] = []

    def __enter__(self) -> SortedChanges:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._write()
        finally:
            self._scratch.cleanup()

    def add(self, change: PatientChange) -> None:
        self._rows.append(change_row(change))
        if len(self._rows) >= self._run_rows:
            self._spill()

    def _spill(self) -> None:
        run = Path(self._scratch.name) / f"run-{len(self._runs):05d}.csv"
        with run.open("w", newline="") as stream:
            csv.writer(stream).writerows(sorted(self._rows))
        self._runs.append(run)
        self._rows = []

    def _write(self) -> None:
        with self._path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            if not self._runs:
                writer.writerows(sorted(self._rows))
                return
            self._spill()
            streams = [run.open(newline="") for run in self._runs]
            try:
                writer.writerows(heapq.merge(*(_read(stream) for stream in streams)))
            finally:
                for stream in streams:
                    stream.close()


def _read(stream: IO[str]) -> Iterator[Row]:
    for row in csv.reader(stream):
        yield tuple(row)
