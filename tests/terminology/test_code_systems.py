"""Every way real data writes a code system and a code is read as one, and only as the data says."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from cds.terminology import Coded, CodeSystems, SystemsFile

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
WHO = "http://hl7.org/fhir/sid/icd-10"


def systems(**extra: object) -> CodeSystems:
    spec = {
        "kind": "code_systems",
        "systems": {
            "snomed": {"uri": SNOMED, "label": "SNOMED", "aliases": ["urn:oid:2.16.840.1.113883.6.96"]},
            "icd-10-cm": {"uri": ICD10CM, "label": "ICD-10-CM", "codes": "icd"},
        },
        "read_as": [{"uri": WHO, "label": "ICD-10 (WHO)", "system": "icd-10-cm", "codes": ["R47.1"]}],
        **extra,
    }
    return CodeSystems(SystemsFile.model_validate(spec))


def test_an_oid_is_read_as_the_system_it_names() -> None:
    assert systems().canonical("urn:oid:2.16.840.1.113883.6.96", "40739000") == Coded(SNOMED, "40739000")


def test_an_icd_code_without_its_dot_is_the_same_code() -> None:
    assert (
        systems().canonical(ICD10CM, "r252")
        == systems().canonical(ICD10CM, "R25.2")
        == Coded(ICD10CM, "R25.2")
    )


def test_a_three_character_icd_code_has_no_dot() -> None:
    assert systems().canonical(ICD10CM, "R47") == Coded(ICD10CM, "R47")


def test_snomed_codes_are_compared_as_written() -> None:
    assert systems().canonical(SNOMED, " 40739000 ") == Coded(SNOMED, "40739000")


def test_a_listed_who_code_is_read_as_the_same_icd_10_cm_code() -> None:
    assert systems().canonical(WHO, "R471") == Coded(ICD10CM, "R47.1")


def test_a_who_code_not_listed_is_not_read_as_icd_10_cm() -> None:
    assert systems().canonical(WHO, "R25.1") is None


def test_an_unknown_system_or_a_missing_code_is_not_ours() -> None:
    assert systems().canonical("http://example.org/local", "40739000") is None
    assert systems().canonical(SNOMED, None) is None
    assert systems().canonical(None, "40739000") is None


def test_rule_files_name_a_system_by_short_name_or_uri() -> None:
    assert systems().uri("snomed") == systems().uri(SNOMED) == SNOMED


def test_an_unknown_short_name_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown code system 'snowmed'; expected one of snomed, icd-10-cm"):
        systems().uri("snowmed")


def test_every_spelling_shows_the_systems_label() -> None:
    assert systems().label("urn:oid:2.16.840.1.113883.6.96") == "SNOMED"
    assert systems().label(WHO) == "ICD-10 (WHO)"
    assert systems().label("http://example.org/local") == "http://example.org/local"


def test_a_spelling_listed_for_two_systems_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("'http://snomed.info/sct' is listed for both snomed and read_as")
    ):
        systems(read_as=[{"uri": SNOMED, "label": "again", "system": "icd-10-cm", "codes": ["R47.1"]}])


def test_read_as_must_name_a_known_system() -> None:
    with pytest.raises(ValidationError, match="unknown system 'icd-10-xx'"):
        systems(read_as=[{"uri": WHO, "label": "WHO", "system": "icd-10-xx", "codes": ["R47.1"]}])
