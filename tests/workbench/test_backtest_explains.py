"""The back-test explains itself: what changed in the rules, why each patient changed, readable charts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from rules_copy import copy_rules, set_parameter

from cds.workbench.backtest import BacktestReport, Execution, RuleSources, run_backtest
from cds.workbench.charts import NO_CARD, card_rate_figure, html_page
from cds.workbench.impact import impact_text
from cds.workbench.population import open_population
from cds.workbench.snapshot import RulesSnapshot

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def lowered(population: Path, tmp_path_factory: pytest.TempPathFactory) -> BacktestReport:
    """The population back-tested with the magnesium threshold lowered from 1.7 to 1.5 mg/dL."""
    rules = copy_rules(tmp_path_factory.mktemp("lowered"))
    set_parameter(rules, "magnesium_low_mg_dl", "1.7", "1.5")
    sources = RuleSources(
        current=RulesSnapshot.take(rules),
        current_dir=str(rules),
        baseline=RulesSnapshot.take(None),
        baseline_dir="rules",
    )
    return run_backtest(open_population(population), sources, now=NOW, execution=Execution(workers=1))


def test_the_population_has_patients_the_lowered_threshold_changes(lowered: BacktestReport) -> None:
    assert lowered.changes is not None and lowered.changes.patients_changed > 0


def test_the_charts_use_a_linear_scale_and_label_every_bar_with_its_value(lowered: BacktestReport) -> None:
    figure = card_rate_figure(lowered)
    for axis in figure.axes:
        assert axis.get_xscale() == axis.get_yscale() == "linear"
        bars = [patch for container in axis.containers for patch in container]
        labels = [text.get_text() for text in axis.texts]
        assert len(labels) == len(bars) > 0 and all("%" in label for label in labels)


def test_the_most_urgent_card_chart_shows_critical_next_to_no_card(lowered: BacktestReport) -> None:
    top_axis = card_rate_figure(lowered).axes[1]
    assert [tick.get_text() for tick in top_axis.get_xticklabels()] == [
        NO_CARD,
        "critical",
        "warning",
        "info",
    ]


def test_a_patient_left_without_cards_reads_no_card(lowered: BacktestReport) -> None:
    page = html_page(lowered, b"")
    assert "none: -" not in page
    assert f"<td>{NO_CARD}</td>" in page


def test_the_text_report_starts_with_what_changed_in_the_rules(lowered: BacktestReport) -> None:
    lines = impact_text(lowered).splitlines()
    changed = lines.index("What changed from the baseline to the current rules:")
    parameter = next(
        i for i, line in enumerate(lines) if "magnesium_low_mg_dl: 1.7 mg/dL -> 1.5 mg/dL" in line
    )
    table = next(i for i, line in enumerate(lines) if line.startswith("rule "))
    assert changed < parameter < table


def test_the_page_shows_what_changed_before_the_chart(lowered: BacktestReport) -> None:
    page = html_page(lowered, b"")
    assert page.index("<h2>What changed</h2>") < page.index("magnesium_low_mg_dl") < page.index("<img")


def test_each_changed_patient_is_given_the_magnesium_result_that_decided_it(
    lowered: BacktestReport, population: Path
) -> None:
    assert lowered.changes is not None
    latest = _latest_magnesium(population)
    for change in lowered.changes.examples:
        value, day = latest[change.patient_id]
        assert change.why == (
            f"spasm-benign-contributors no longer fires: magnesium {value:g} mg/dL on {day}, "
            f"now {'above' if value > 1.5 else 'at'} the threshold 1.5 (was 1.7)"
        )


def _latest_magnesium(population: Path) -> dict[str, tuple[float, str]]:
    """Patient id -> (value, date) of the latest magnesium result (LOINC 19123-9) in the export."""
    found: dict[str, tuple[str, float]] = {}
    for line in (population / "Observation.ndjson").read_bytes().splitlines():
        resource = orjson.loads(line)
        if any(c.get("code") == "19123-9" for c in resource["code"].get("coding", [])):
            patient = resource["subject"]["reference"].removeprefix("Patient/")
            moment = resource["effectiveDateTime"]
            if patient not in found or moment > found[patient][0]:
                found[patient] = (moment, resource["valueQuantity"]["value"])
    return {patient: (value, moment[:10]) for patient, (moment, value) in found.items()}
