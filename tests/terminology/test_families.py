"""ICD-10-CM families: the code and everything below it in the tabular, minus what an author excludes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cds.rulebook import Rulebook, RulebookError, load_rulebook
from cds.rulebook.catalogue import catalogue
from cds.terminology.families import FamilyError, expand
from cds.terminology.icd10cm import Icd10CmTabular
from cds.terminology.verify import verify

Edit = Callable[[Path, str, str], None]

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
TABULAR = Icd10CmTabular()


def test_a_family_is_the_code_and_every_code_below_it() -> None:
    family = expand("R13.1", [], TABULAR)
    assert [m.code for m in family.members] == [
        "R13.1",
        "R13.10",
        "R13.11",
        "R13.12",
        "R13.13",
        "R13.14",
        "R13.19",
    ]
    assert family.members[2].display == "Dysphagia, oral phase"


def test_an_excluded_code_takes_its_own_descendants_with_it() -> None:
    family = expand("R47", ["R47.0"], TABULAR)
    assert "R47.0" not in [m.code for m in family.members]
    assert "R47.01" not in [m.code for m in family.members]
    assert "R47.81" in [m.code for m in family.members]


def test_a_code_not_in_the_tabular_is_refused() -> None:
    with pytest.raises(FamilyError, match=r"R13\.7 is not an ICD-10-CM code in the tabular") as caught:
        expand("R13.7", [], TABULAR)
    assert caught.value.field == "code"


def test_an_exclusion_not_below_the_code_is_refused_naming_what_is() -> None:
    with pytest.raises(FamilyError, match=r"R25\.2 is not below R13 .*below: R13\.0, R13\.1") as caught:
        expand("R13", ["R25.2"], TABULAR)
    assert caught.value.field == "exclude.0"


def test_a_leaf_code_has_no_family() -> None:
    with pytest.raises(FamilyError, match="has no descendants"):
        expand("M62.81", [], TABULAR)


def test_every_member_of_a_shipped_family_is_recognised(rulebook: Rulebook) -> None:
    for family in rulebook.terminology.families.values():
        for member in family.members:
            assert rulebook.terminology.lookup(ICD10CM, member.code.replace(".", "")) is not None, member


def test_a_code_written_out_keeps_its_region_inside_a_family(rulebook: Rulebook) -> None:
    found = rulebook.terminology.lookup(ICD10CM, "M62.831")
    assert found is not None and found.region == "lumbosacral"


def test_a_narrower_concept_wins_over_a_family_that_holds_it(rulebook: Rulebook) -> None:
    found = rulebook.terminology.lookup(ICD10CM, "G12.21")
    assert found is not None and found.name == "als"


def test_rules_list_shows_each_expansion(rulebook: Rulebook) -> None:
    text = catalogue(rulebook)
    assert "R47 with descendants (R47, R47.1, R47.8, R47.81, R47.89, R47.9; excluded R47.0, R47.82)" in text


def test_the_shipped_codes_agree_with_the_tabular_and_the_free_set(rulebook: Rulebook) -> None:
    checked = verify(rulebook.terminology, rulebook.directory)
    assert checked.problems == []
    assert all("not in the IPS free set" in mark for mark in checked.marks)


def test_a_family_code_not_in_the_tabular_is_named_with_file_line_and_field(rules: Path, edit: Edit) -> None:
    path = rules / "valuesets" / "red_flags.yaml"
    edit(path, "code: R13, display", "code: R13.7, display")
    with pytest.raises(RulebookError) as caught:
        load_rulebook(rules)
    [problem] = [str(p) for p in caught.value.problems]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "R13.7" in text)
    assert problem.startswith(
        f"rules/valuesets/red_flags.yaml:{line}: concepts.swallowing_difficulty.codes.4.code:"
    )
    assert "R13.7 is not an ICD-10-CM code in the tabular" in problem


def test_a_new_family_loads_live_and_check_says_to_record_it(rules: Path, edit: Edit) -> None:
    edit(rules / "valuesets" / "red_flags.yaml", "exclude: [R47.0, R47.82]", "exclude: [R47.0]")
    rulebook = load_rulebook(rules)
    [note] = rulebook.notes
    assert re.search(r"family R47 expanded live from the tabular .*cds rules expand", note)
    assert rulebook.terminology.lookup(ICD10CM, "R47.82") is not None


def test_descendants_of_a_system_without_a_hierarchy_are_refused(rules: Path, edit: Edit) -> None:
    edit(
        rules / "valuesets" / "red_flags.yaml",
        'code: "8011004", display: "Dysarthria", status: confirmed, source: IPS}',
        'code: "8011004", display: "Dysarthria", status: confirmed, source: IPS, descendants: true}',
    )
    with pytest.raises(RulebookError, match="SNOMED has no hierarchy here: list its members one by one"):
        load_rulebook(rules)


def test_descendants_come_from_the_systems_hierarchy_in_any_spelling(rulebook: Rulebook) -> None:
    terminology = rulebook.terminology
    assert terminology.descendants("urn:oid:2.16.840.1.113883.6.90", "R131") == (
        "R13.10",
        "R13.11",
        "R13.12",
        "R13.13",
        "R13.14",
        "R13.19",
    )
    assert terminology.descendants("http://snomed.info/sct", "40739000") == ()
