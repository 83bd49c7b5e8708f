"""changes.csv lists every changed patient sorted by patient id, as the report's tables are."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from cds.workbench.changes import COLUMNS, SortedChanges
from cds.workbench.tally import PatientChange


def _change(patient_id: str) -> PatientChange:
    return PatientChange(
        patient_id=patient_id,
        source=f"Patient.ndjson:{patient_id}",
        before_top="info",
        after_top="none",
        before_cards=["spasm-benign-contributors"],
        after_cards=[],
        why="spasm-benign-contributors no longer fires: magnesium 1.6 mg/dL, now above the threshold 1.5",
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_changes_arriving_in_any_order_are_written_sorted_by_patient_id(tmp_path: Path) -> None:
    ids = [f"{n:04d}" for n in range(23)]
    random.Random(3).shuffle(ids)
    with SortedChanges(tmp_path / "changes.csv", run_rows=5) as changes:
        for patient_id in ids:
            changes.add(_change(patient_id))
    rows = _rows(tmp_path / "changes.csv")
    assert [r["patient_id"] for r in rows] == sorted(ids)
    assert rows[0] == {
        "patient_id": "0000",
        "source": "Patient.ndjson:0000",
        "before_top": "info",
        "after_top": "none",
        "before_cards": "spasm-benign-contributors",
        "after_cards": "",
        "why": "spasm-benign-contributors no longer fires: magnesium 1.6 mg/dL, now above the threshold 1.5",
    }
    assert list(tmp_path.iterdir()) == [tmp_path / "changes.csv"]


def test_no_change_gives_a_file_with_the_header_only(tmp_path: Path) -> None:
    with SortedChanges(tmp_path / "changes.csv"):
        pass
    assert (tmp_path / "changes.csv").read_text().splitlines() == [",".join(COLUMNS)]
