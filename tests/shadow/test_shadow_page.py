"""The shadow report's HTML page, as a browser shows it: headless Chromium takes a screenshot and the
rendered page must hold the chart and every table (`make chromium` installs Debian's chromium)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib import image
from rules_copy import copy_rules, set_parameter

from cds.rulebook import Rulebook, load_rulebook
from cds.rulebook.diff import diff_rulebooks
from cds.shadow.page import html_page
from cds.shadow.report import shadow_report
from cds.store import FeedbackRecord, ShadowCard, ShadowPair, ShadowRecord

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
TABLES = (
    "parameters-1",
    "codes-1",
    "rule-versions-1",
    "cards-1",
    "rules-1",
    "top-indicator-1",
    "removed-1",
    "added-1",
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,2400",
)


@pytest.fixture(scope="module")
def page(rulebook: Rulebook, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a threshold change: 3 benign-contributor cards removed (one overridden), one kept."""
    rules = copy_rules(tmp_path_factory.mktemp("candidate"))
    set_parameter(rules, "magnesium_low_mg_dl", "1.7", "1.5")
    candidate = load_rulebook(rules)
    live, new = rulebook.version, candidate.version
    benign = "spasm-benign-contributors"
    records = [
        ShadowRecord(
            NOW + dt.timedelta(minutes=n),
            "spasm-patient-view",
            f"hook-{n}",
            live,
            new,
            (ShadowCard(benign, "1.0.0", "info", f"uuid-{n}"),),
            (ShadowCard(benign, "1.0.0", "info"),) if n == 0 else (),
        )
        for n in range(4)
    ]
    overridden = FeedbackRecord(
        "uuid-1",
        "spasm-patient-view",
        "overridden",
        None,
        "urn:r",
        "cause_known",
        "Cause known",
        None,
        NOW,
        NOW,
    )
    pair = ShadowPair(live, new, diff_rulebooks(rulebook, candidate).to_json(), NOW)
    path = tmp_path_factory.mktemp("html") / "shadow-report.html"
    path.write_text(html_page(shadow_report(records, [pair], [overridden])), encoding="utf-8")
    return path


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("chromium is not installed: run `make chromium` (make test does)")
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_headless_chromium_renders_the_chart_and_every_table(page: Path, tmp_path: Path) -> None:
    dom = _chromium(page, tmp_path / "profile", "--dump-dom").stdout
    for table in TABLES:
        assert f'<table id="{table}">' in dom
    assert '<img id="chart-1"' in dom and "data:image/png;base64," in dom
    assert "magnesium_low_mg_dl" in dom and "Cause known: 1" in dom


def test_the_screenshot_of_the_page_is_a_picture_with_something_on_it(page: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "shadow-report.png"
    _chromium(page, tmp_path / "profile", f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 0
    pixels = image.imread(screenshot)
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels.std() > 0.01  # not one flat colour
