"""Counting outcomes: per rule and in total, and who changed between two rule sets."""

from __future__ import annotations

from cds.rulebook import Rulebook
from cds.workbench.tally import EXAMPLES_KEPT, PatientChange, Tally, top_of
from cds.workbench.worker import PatientOutcome

BENIGN = (("spasm-benign-contributors", "info"),)
RED_FLAG = (("spasm-red-flag", "warning"),)


def _outcome(
    patient: str, after: tuple[tuple[str, str], ...], before: tuple[tuple[str, str], ...]
) -> PatientOutcome:
    return PatientOutcome(f"Patient/{patient}", patient, (after, before))


def test_the_top_indicator_is_the_most_urgent_card() -> None:
    assert top_of(BENIGN + RED_FLAG) == "warning" and top_of(()) == "none"


def test_cards_are_counted_per_rule_and_indicator(rulebook: Rulebook) -> None:
    tally = Tally(1)
    for cards in (BENIGN, BENIGN, RED_FLAG, ()):
        tally.add(PatientOutcome("x", "x", (cards,)))
    stats = tally.ruleset(0, rulebook, "rules")
    by_rule = {r.rule_id: (r.cards, r.rate) for r in stats.rules}
    assert by_rule["spasm-benign-contributors"] == (2, 0.5)
    assert stats.patients_by_top_indicator == {"none": 1, "info": 2, "warning": 1, "critical": 0}
    assert stats.patients_with_cards == 3


def test_a_patient_whose_cards_changed_is_reported_once_with_the_change(rulebook: Rulebook) -> None:
    seen: list[PatientChange] = []
    tally = Tally(2, seen.append)
    tally.add(_outcome("same", BENIGN, BENIGN))
    tally.add(_outcome("lost", (), BENIGN))
    changes = tally.changes(rulebook, rulebook)
    assert [c.patient_id for c in seen] == ["lost"]
    assert (changes.patients_changed, changes.transitions) == (1, {"info -> none": 1})
    assert {r.rule_id: r.lost for r in changes.rules}["spasm-benign-contributors"] == 1


def test_the_examples_are_the_smallest_ids_whatever_the_order(rulebook: Rulebook) -> None:
    tally = Tally(2)
    for number in reversed(range(EXAMPLES_KEPT + 50)):
        tally.add(_outcome(f"p{number:04d}", (), BENIGN))
    examples = tally.changes(rulebook, rulebook).examples
    assert [e.patient_id for e in examples] == [f"p{n:04d}" for n in range(EXAMPLES_KEPT)]


def test_a_patient_that_could_not_be_evaluated_is_counted_apart(rulebook: Rulebook) -> None:
    tally = Tally(1)
    tally.add(PatientOutcome("odd.json", None, (), "cannot be read: not JSON"))
    assert (tally.patients, tally.errors, tally.error_examples) == (
        1,
        1,
        ["odd.json: cannot be read: not JSON"],
    )
    assert tally.ruleset(0, rulebook, "rules").patients_evaluated == 0
