"""Whether a finding is there: the presence vocabulary of the shipped rules (terminology/presence.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from cds.rulebook import Rulebook
from cds.terminology import ConceptMatch

SNOMED = "http://snomed.info/sct"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
WEAKNESS = {"coding": [{"system": SNOMED, "code": "26544005", "display": "Muscle weakness"}]}


def observation(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": WEAKNESS, **fields}


def absent(rulebook: Rulebook, resource: dict[str, Any]) -> str | None:
    match = rulebook.terminology.finding(resource)
    assert isinstance(match, ConceptMatch)
    return rulebook.terminology.absent_because(resource, match)


@pytest.mark.parametrize(
    ("fields", "because"),
    [
        ({"valueBoolean": False}, "valueBoolean false"),
        (
            {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000"}]}},
            "value 'Absent' (SNOMED 2667000)",
        ),
        (
            {
                "valueCodeableConcept": {
                    "coding": [{"system": "urn:oid:2.16.840.1.113883.6.96", "code": "373572006"}]
                }
            },
            "value 'Clinical finding absent' (SNOMED 373572006)",
        ),
        (
            {"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "NEG"}]}]},
            "interpretation 'Negative' (HL7 interpretation NEG)",
        ),
        (
            {"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "ND"}]}]},
            "interpretation 'Not detected' (HL7 interpretation ND)",
        ),
        ({"valueString": "Not present."}, "value 'Not present.'"),
        ({"valueString": "no"}, "value 'no'"),
    ],
)
def test_ways_an_observation_says_absent(rulebook: Rulebook, fields: dict[str, Any], because: str) -> None:
    assert absent(rulebook, observation(**fields)) == because


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"valueBoolean": True},
        {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "52101004"}]}},
        {"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "POS"}]}]},
        {"valueString": "Present"},
        {"valueString": "mild weakness of the left hand"},
    ],
)
def test_an_observation_that_does_not_say_absent_is_present(
    rulebook: Rulebook, fields: dict[str, Any]
) -> None:
    assert absent(rulebook, observation(**fields)) is None


def test_when_one_way_says_present_the_finding_is_present(rulebook: Rulebook) -> None:
    resource = observation(
        valueCodeableConcept={"coding": [{"system": SNOMED, "code": "52101004"}]},
        interpretation=[{"coding": [{"system": INTERPRETATION, "code": "NEG"}]}],
    )
    assert absent(rulebook, resource) is None


def test_a_negative_lab_is_a_result_not_an_absence(rulebook: Rulebook) -> None:
    magnesium = {"coding": [{"system": "http://loinc.org", "code": "19123-9"}]}
    resource = observation(
        code=magnesium, interpretation=[{"coding": [{"system": INTERPRETATION, "code": "NEG"}]}]
    )
    match = rulebook.terminology.finding(resource)
    assert match is not None and rulebook.terminology.absent_because(resource, match) is None


@pytest.mark.parametrize(
    ("text", "negation"),
    [
        ("Denies dysphagia", "Denies dysphagia"),
        ("no difficulty swallowing", "no difficulty swallowing"),
        ("Negative for dysphagia.", "Negative for dysphagia"),
        ("dysphagia: not present", "dysphagia: not present"),
        ("Cough; no dysphagia", "no dysphagia"),
    ],
)
def test_negated_words_make_a_text_match_absent(rulebook: Rulebook, text: str, negation: str) -> None:
    resource = {"resourceType": "Condition", "code": {"text": text}}
    assert absent(rulebook, resource) == f"text {negation!r}"


@pytest.mark.parametrize(
    "text",
    [
        "Dysphagia, no weight loss",
        "No improvement in dysphagia",
        "no fever. Dysphagia for solids",
        "No fever but dysphagia for solids",
        "denies pain; however, dysphagia",
        "dysphagia",
    ],
)
def test_words_that_do_not_negate_the_finding_leave_it_present(rulebook: Rulebook, text: str) -> None:
    resource = {"resourceType": "Condition", "code": {"text": text}}
    assert absent(rulebook, resource) is None


def test_text_is_only_the_last_resort(rulebook: Rulebook) -> None:
    resource = {"resourceType": "Condition", "code": {**WEAKNESS, "text": "difficulty swallowing"}}
    match = rulebook.terminology.finding(resource)
    assert match is not None and (match.name, match.on_text) == ("weakness", None)


def test_the_concept_named_first_in_the_text_wins(rulebook: Rulebook) -> None:
    match = rulebook.terminology.finding({"code": {"text": "benign fasciculation syndrome"}})
    assert match is not None and match.name == "benign_fasciculation_syndrome"


def test_a_text_match_is_described_as_such(rulebook: Rulebook) -> None:
    resource = {"code": {"text": "Trouble swallowing solids"}}
    assert (
        rulebook.terminology.describe(resource)
        == "Trouble swallowing solids (matched on text 'Trouble swallowing')"
    )
