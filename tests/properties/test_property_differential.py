"""Differential: an independent reading of the rule files agrees with the engine and notices a broken
rule."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from hypothesis import Phase, find, given, settings

from cds.evaluation import Evaluator
from cds.facts.models import Fact
from cds.rulebook import Rulebook, load_rulebook
from cds.testing.differential import (
    card_difference,
    changed_parameters,
    disagreement,
    fact_disagreement,
    rule_change_records,
)
from cds.testing.library import evaluate_record
from cds.testing.profiles import FAST_EXAMPLES
from cds.testing.records import PatientRecord
from cds.testing.reference import ReferenceEvaluator
from cds.testing.strategies import fact_sets, records_at_any_time

FACT_SETS_PER_RECORD = 10
"""A fact set costs a tenth of a record, and each sits near one rule's edge only now and then: draw ten
times as many as the profile gives a property."""
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
MAGNESIUM_RULE = "{analyte: magnesium, lab_flag: none, value: {below: $magnesium_low_mg_dl}}"


@given(records_at_any_time())
def test_reference_evaluator_agrees_with_the_engine_on_every_record(
    evaluator: Evaluator, reference: ReferenceEvaluator, record: PatientRecord
) -> None:
    problem = disagreement(evaluate_record(evaluator, record), reference)
    assert problem is None, problem


@settings(max_examples=settings.default.max_examples * FACT_SETS_PER_RECORD)
@given(fact_sets())
def test_reference_evaluator_agrees_with_the_engine_on_any_facts(
    evaluator: Evaluator, reference: ReferenceEvaluator, facts: list[Fact]
) -> None:
    problem = fact_disagreement(evaluator, reference, facts)
    assert problem is None, problem


@pytest.fixture(scope="module")
def flipped_threshold(rulebook: Rulebook, tmp_path_factory: pytest.TempPathFactory) -> Evaluator:
    """The shipped rules with one comparison flipped (magnesium `below` -> `above`), in a copy."""
    rules = tmp_path_factory.mktemp("mutant") / "rules"
    shutil.copytree(rulebook.directory, rules)
    contributors = next((rules / "definitions").glob("*benign-contributors.yaml"))
    text = contributors.read_text()
    assert MAGNESIUM_RULE in text
    contributors.write_text(text.replace(MAGNESIUM_RULE, MAGNESIUM_RULE.replace("below", "above")))
    return Evaluator(load_rulebook(rules))


MUTANT_SEARCH = settings(max_examples=3000, phases=[Phase.generate], database=None)
"""Stop at the first disagreement: shrinking it is not what this test is about."""


def test_differential_catches_a_flipped_threshold(
    flipped_threshold: Evaluator, reference: ReferenceEvaluator
) -> None:
    found = find(
        fact_sets(),
        lambda facts: fact_disagreement(flipped_threshold, reference, facts) is not None,
        settings=MUTANT_SEARCH,
    )
    assert any(fact.engine_payload().get("analyte") == "magnesium" for fact in found)


MAGNESIUM_PARAMETER = "magnesium_low_mg_dl:\n    value: 1.7\n"


@pytest.fixture(scope="module")
def magnesium_raised(rulebook: Rulebook, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped rules with the low-magnesium threshold moved from 1.7 to 1.8 mg/dL, in a copy."""
    rules = tmp_path_factory.mktemp("raised") / "rules"
    shutil.copytree(rulebook.directory, rules)
    parameters = rules / "parameters.yaml"
    text = parameters.read_text()
    assert MAGNESIUM_PARAMETER in text
    parameters.write_text(text.replace(MAGNESIUM_PARAMETER, MAGNESIUM_PARAMETER.replace("1.7", "1.8")))
    return rules


def test_the_changed_parameter_is_named(rulebook: Rulebook, magnesium_raised: Path) -> None:
    assert changed_parameters(rulebook.directory, magnesium_raised) == {"magnesium_low_mg_dl": (1.7, 1.8)}


def test_a_magnesium_threshold_moved_by_a_tenth_is_found_within_the_fast_profile(
    evaluator: Evaluator, rulebook: Rulebook, magnesium_raised: Path
) -> None:
    raised = Evaluator(load_rulebook(magnesium_raised))
    found = find(
        rule_change_records(rulebook.directory, magnesium_raised, now=NOW),
        lambda record: card_difference(evaluator, raised, record) is not None,
        settings=settings(
            max_examples=FAST_EXAMPLES, phases=[Phase.generate], database=None, derandomize=True
        ),
    )
    assert "magnesium" in (card_difference(evaluator, raised, found) or "")
