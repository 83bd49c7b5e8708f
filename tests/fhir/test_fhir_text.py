import pytest

from cds.fhir import clean_text


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_zero_width_characters_are_removed(invisible: str) -> None:
    assert clean_text(f"Potassium [Mass/{invisible}volume] in Blood") == "Potassium [Mass/volume] in Blood"


def test_whitespace_runs_become_single_spaces() -> None:
    assert clean_text("Calcium\n\t[Mass/volume]\u00a0 in  Serum") == "Calcium [Mass/volume] in Serum"


def test_leading_and_trailing_whitespace_is_dropped() -> None:
    assert clean_text(" \u200b Magnesium \n") == "Magnesium"
