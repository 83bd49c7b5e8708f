"""Absence: saying a finding is absent never adds a card, never raises one, and changes no decision."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cds.evaluation import Evaluator
from cds.testing.compare import comparable_cards
from cds.testing.fhir_values import JsonObject
from cds.testing.library import response_of
from cds.testing.space import RuleSpace
from cds.testing.strategies import findings, records_at_any_time

SNOMED = "http://snomed.info/sct"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ABSENT_SAYINGS: tuple[JsonObject, ...] = (
    {"valueBoolean": False},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000", "display": "Absent"}]}},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373572006"}], "text": "Not found"}},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260385009", "display": "Negative"}]}},
    {"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "NEG"}]}]},
    {"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "ND"}]}]},
    {"valueString": "Not present"},
    {"valueString": "absent"},
)


def said_absent(finding: JsonObject, saying: JsonObject, index: int) -> JsonObject:
    """The same finding as an exam Observation that records it absent, dated when the finding was."""
    when = finding.get("effectiveDateTime") or finding.get("onsetDateTime") or finding.get("recordedDate")
    observation: JsonObject = {
        "resourceType": "Observation",
        "id": f"absent-{index}",
        "status": "final",
        "code": finding["code"],
        "subject": finding["subject"],
        **saying,
    }
    if when:
        observation["effectiveDateTime"] = when
    return observation


@st.composite
def absent_findings(draw: st.DrawFn, now: dt.datetime, patient_id: str, space: RuleSpace) -> list[JsonObject]:
    kind = draw(st.sampled_from(["red_flag", "symptom"]))
    drawn = draw(
        st.lists(
            findings(kind, now=now, patient_id=patient_id, space=space, current=True), min_size=1, max_size=3
        )
    )
    coded = [f for f in drawn if (f.get("code") or {}).get("coding")]
    return [said_absent(f, draw(st.sampled_from(ABSENT_SAYINGS)), i) for i, f in enumerate(coded)]


@given(st.data())
def test_saying_a_finding_is_absent_never_changes_the_cards(
    evaluator: Evaluator, space: RuleSpace, data: st.DataObject
) -> None:
    record = data.draw(records_at_any_time())
    absent = data.draw(absent_findings(record.now, record.patient_id, space))
    said = record.plus("irrelevant", absent)
    before = comparable_cards(response_of(evaluator, record), set_aside=False)
    assert comparable_cards(response_of(evaluator, said), set_aside=False) == before
