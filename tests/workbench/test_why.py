"""Why a patient's cards changed, in one line: the deciding evidence, from findings and the rules diff."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rules_copy import copy_rules, edit

from cds.evaluation import Evaluation, Evaluator
from cds.fhir import read_path
from cds.rulebook import Rulebook, load_rulebook
from cds.rulebook.diff import diff_rulebooks
from cds.workbench.why import why_changed

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _with(tmp_path: Path, name: str, old: str, new: str) -> Rulebook:
    rules = copy_rules(tmp_path / name)
    edit(rules / "parameters.yaml", old, new)
    return load_rulebook(rules)


def _evaluated(rulebook: Rulebook, fixture: str) -> Evaluation:
    return Evaluator(rulebook).evaluate(read_path(FIXTURES / fixture), now=NOW)


def _why(baseline: Rulebook, current: Rulebook, fixture: str) -> str:
    before, after = _evaluated(baseline, fixture), _evaluated(current, fixture)
    return why_changed(before=before, after=after, diff=diff_rulebooks(baseline, current))


@pytest.fixture(scope="module")
def lowered(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    """The magnesium threshold lowered from 1.7 to 1.2 mg/dL."""
    folder = tmp_path_factory.mktemp("lowered")
    return _with(
        folder, "lowered", "magnesium_low_mg_dl:\n    value: 1.7", "magnesium_low_mg_dl:\n    value: 1.2"
    )


def test_a_card_lost_to_a_lower_threshold_names_the_value_and_the_new_threshold(
    rulebook: Rulebook, lowered: Rulebook
) -> None:
    assert _why(rulebook, lowered, "benign-low-magnesium.json") == (
        "spasm-benign-contributors no longer fires: "
        "magnesium 1.3 mg/dL on 2026-11-20, now above the threshold 1.2 (was 1.7)"
    )


def test_a_card_gained_from_a_higher_threshold_names_the_value_and_the_new_threshold(
    rulebook: Rulebook, lowered: Rulebook
) -> None:
    assert _why(lowered, rulebook, "benign-low-magnesium.json") == (
        "spasm-benign-contributors now fires: "
        "magnesium 1.3 mg/dL on 2026-11-20, now below the threshold 1.7 (was 1.2)"
    )


def test_a_changed_indicator_names_both(rulebook: Rulebook, tmp_path: Path) -> None:
    warning = _with(
        tmp_path,
        "warning",
        "contributor_indicator:\n    value: info",
        "contributor_indicator:\n    value: warning",
    )
    assert _why(rulebook, warning, "benign-low-magnesium.json") == (
        "spasm-benign-contributors card now warning (was info)"
    )


def test_the_same_cards_need_no_reason(rulebook: Rulebook, lowered: Rulebook) -> None:
    assert _why(rulebook, lowered, "urgent-red-flag.json") == ""
