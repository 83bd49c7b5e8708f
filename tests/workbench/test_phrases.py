"""A record line is read the way an informaticist writes it, and refused with a reason otherwise."""

from __future__ import annotations

import pytest

from cds.workbench.lexicon import Lexicon
from cds.workbench.phrases import PhraseError, parse_phrase


def test_a_lab_line_gives_concept_value_unit_and_time(lexicon: Lexicon) -> None:
    item = parse_phrase("magnesium 1.3 mg/dL 5 days ago", lexicon)
    assert (item.term.kind, item.term.concept) == ("lab", "magnesium")
    assert (item.value, item.unit, item.when.days_ago) == (1.3, "mg/dL", 5)
    assert item.resource_type == "Observation"


def test_a_finding_is_a_condition_unless_said_otherwise(lexicon: Lexicon) -> None:
    assert parse_phrase("cramp", lexicon).resource_type == "Condition"
    assert parse_phrase("cramp, as observation", lexicon).resource_type == "Observation"


def test_modifiers_after_commas_are_all_read(lexicon: Lexicon) -> None:
    item = parse_phrase("fasciculation, onset 3 weeks ago, body site Left Calf, severe", lexicon)
    assert (item.when.days_ago, item.when.field) == (21, "onset")
    assert (item.body_site, item.severity) == ("Left Calf", "severe")


def test_a_code_display_names_that_very_code(lexicon: Lexicon) -> None:
    item = parse_phrase("Cramp in lower leg", lexicon)
    assert item.term.concept == "muscle_cramp"
    assert item.term.coding is not None and item.term.coding.code == "449918009"


def test_code_picks_one_of_the_concepts_codes(lexicon: Lexicon) -> None:
    item = parse_phrase("magnesium 0.55 mmol/L, code 2601-3", lexicon)
    assert item.term.coding is not None and item.term.coding.code == "2601-3"


def test_a_medication_is_named_by_its_ingredient(lexicon: Lexicon) -> None:
    item = parse_phrase("furosemide 6 months ago, stopped", lexicon)
    assert (item.resource_type, item.status, item.when.days_ago) == ("MedicationRequest", "stopped", 180)


def test_an_unknown_word_is_refused_with_a_suggestion(lexicon: Lexicon) -> None:
    with pytest.raises(PhraseError, match="did you mean 'cramp'"):
        parse_phrase("cramps, onset 3 days ago", lexicon)


def test_a_measurement_without_a_value_is_refused(lexicon: Lexicon) -> None:
    with pytest.raises(PhraseError, match="magnesium needs a value"):
        parse_phrase("magnesium 5 days ago", lexicon)


def test_a_modifier_that_cannot_apply_is_refused(lexicon: Lexicon) -> None:
    with pytest.raises(PhraseError, match="'refuted' applies to a Condition"):
        parse_phrase("magnesium 1.3 mg/dL, refuted", lexicon)


def test_an_unknown_modifier_lists_what_is_expected(lexicon: Lexicon) -> None:
    with pytest.raises(PhraseError, match="'loud' is not a modifier; expected a time"):
        parse_phrase("cramp, loud", lexicon)


def test_two_times_for_one_line_are_refused(lexicon: Lexicon) -> None:
    with pytest.raises(PhraseError, match="second time"):
        parse_phrase("cramp, onset 3 days ago, 4 days ago", lexicon)


def test_a_code_the_value_sets_do_not_list_is_refused(lexicon: Lexicon) -> None:
    with pytest.raises(PhraseError, match=r"not a code of potassium.*2823-3"):
        parse_phrase("potassium 3.1 mmol/L, code 999-9", lexicon)
