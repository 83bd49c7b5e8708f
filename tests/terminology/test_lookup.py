"""One look-up for every code the rules know, whichever way a chart writes it (the shipped rules)."""

from __future__ import annotations

import orjson

from cds.rulebook import Rulebook

SNOMED_OID = "urn:oid:2.16.840.1.113883.6.96"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10CM_OID = "urn:oid:2.16.840.1.113883.6.90"
WHO = "http://hl7.org/fhir/sid/icd-10"
LOINC_OID = "urn:oid:2.16.840.1.113883.6.1"
RXNORM_OID = "urn:oid:2.16.840.1.113883.6.88"


def concept(rulebook: Rulebook, system: str, code: str) -> tuple[str, str] | None:
    found = rulebook.terminology.lookup(system, code)
    return (found.kind, found.name) if found else None


def test_snomed_by_oid(rulebook: Rulebook) -> None:
    assert concept(rulebook, SNOMED_OID, "40739000") == ("red_flag", "swallowing_difficulty")


def test_icd_10_cm_by_oid_and_without_dot(rulebook: Rulebook) -> None:
    assert concept(rulebook, ICD10CM_OID, "R252") == ("symptom", "muscle_spasm")


def test_who_icd_10_where_it_means_the_same(rulebook: Rulebook) -> None:
    assert concept(rulebook, WHO, "R47.1") == ("red_flag", "speech_difficulty")
    assert concept(rulebook, WHO, "R25.3") == ("symptom", "fasciculation")


def test_loinc_by_oid(rulebook: Rulebook) -> None:
    assert concept(rulebook, LOINC_OID, "19123-9") == ("lab", "magnesium")


def test_a_code_of_another_system_is_not_matched(rulebook: Rulebook) -> None:
    assert concept(rulebook, "http://example.org/local", "40739000") is None


def test_rxnorm_by_oid_names_the_ingredient(rulebook: Rulebook) -> None:
    match = rulebook.terminology.medication([(RXNORM_OID, "316049")], None)
    assert match is not None and match.ingredient == "hydrochlorothiazide"


def test_a_coding_wins_over_the_words(rulebook: Rulebook) -> None:
    found = rulebook.terminology.classify([(SNOMED_OID, "40739000")], "benign fasciculation syndrome")
    assert found is not None and found.name == "swallowing_difficulty"


def test_evidence_names_the_system_by_its_label_whatever_its_spelling(rulebook: Rulebook) -> None:
    resource = {"code": {"coding": [{"system": SNOMED_OID, "code": "40739000"}], "text": "Dysphagia"}}
    assert rulebook.terminology.describe(resource) == "Dysphagia (SNOMED 40739000)"


def test_a_code_given_as_json_text_is_recognised_as_the_parsed_code(rulebook: Rulebook) -> None:
    code = {"coding": [{"system": SNOMED_OID, "code": "40739000"}], "text": "Dysphagia"}
    text = orjson.dumps(code)
    terminology = rulebook.terminology
    assert terminology.finding_of_code_text(text) == terminology.finding({"code": code})
    assert terminology.describe_code_text(text) == terminology.describe({"code": code})
