"""`cds shadow report` as an informaticist runs it against the service's store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from cds.cli.main import cli
from cds.store import FeedbackRecord, ShadowCard, ShadowRecord, open_store

DAY = dt.timedelta(days=1)
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
BENIGN = "spasm-benign-contributors"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A store as the service leaves it: one call last week, one today whose card the candidate drops."""
    var = tmp_path / "var"
    store = open_store(f"sqlite:///{var / 'cds.sqlite3'}")
    for n, at in enumerate((NOW - 7 * DAY, NOW)):
        live = (ShadowCard(BENIGN, "1.0.0", "info", f"uuid-{n}"),)
        store.record_shadow(ShadowRecord(at, "spasm-patient-view", f"hook-{n}", "v1", "v2", live, ()))
    store.record_feedback(
        [
            FeedbackRecord(
                "uuid-1", "spasm-patient-view", "accepted", ("s-1",), None, None, None, None, NOW, NOW
            )
        ]
    )
    store.close()
    return var


def test_the_report_names_both_versions_and_the_removed_cards_feedback(data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["shadow", "report", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Live rules v1 -> candidate rules v2: 2 calls shadowed")
    assert f"{BENIGN}: 2 cards: accepted 1, overridden 0, no feedback 1" in result.output


def test_since_leaves_out_older_calls(data_dir: Path) -> None:
    since = (NOW - DAY).strftime("%Y-%m-%d")
    result = CliRunner().invoke(
        cli, ["shadow", "report", "--data-dir", str(data_dir), "--since", since, "--json"]
    )
    assert result.exit_code == 0, result.output
    (pair,) = orjson.loads(result.output)["pairs"]
    assert (pair["calls"], pair["removed"][0]["accepted"]) == (1, 1)


def test_html_writes_the_page_beside_the_text(data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["shadow", "report", "--data-dir", str(data_dir), "--html", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    page = tmp_path / "out" / "shadow-report.html"
    assert f"HTML report: {page}" in result.output
    assert '<table id="rules-1">' in page.read_text()


def test_a_data_dir_without_a_store_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["shadow", "report", "--data-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no store at ")
