"""`cds rules check` holds every code to its source: the ICD-10-CM tabular and the SNOMED CT free set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cds.rulebook import load_rulebook
from cds.terminology.verify import verify

Edit = Callable[[Path, str, str], None]


def problems(rules: Path) -> list[str]:
    rulebook = load_rulebook(rules)
    return verify(rulebook.terminology, rulebook.directory).problems


def test_a_confirmed_snomed_code_outside_the_free_set_is_a_problem(rules: Path, edit: Edit) -> None:
    edit(
        rules / "valuesets" / "red_flags.yaml",
        'code: "6077001", display: "Foot-drop"',
        'code: "6077009", display: "Foot-drop"',
    )
    assert problems(rules) == [
        "red_flag weakness: SNOMED 6077009 'Foot-drop' is not in the IPS free set: "
        "name its source or mark it repo-only"
    ]


def test_a_marked_snomed_code_outside_the_free_set_is_listed_not_refused(rules: Path, edit: Edit) -> None:
    edit(
        rules / "valuesets" / "red_flags.yaml",
        'code: "6077001", display: "Foot-drop", status: confirmed, source: IPS',
        'code: "6077009", display: "Foot-drop", status: repo-only, source: "a vendor chart"',
    )
    rulebook = load_rulebook(rules)
    checked = verify(rulebook.terminology, rulebook.directory)
    assert checked.problems == []
    assert (
        "red_flag weakness: SNOMED 6077009 'Foot-drop': "
        "not in the IPS free set (repo-only, source a vendor chart)" in checked.marks
    )


def test_a_display_the_free_set_does_not_give_is_a_problem(rules: Path, edit: Edit) -> None:
    edit(rules / "valuesets" / "red_flags.yaml", 'display: "Orthopnea"', 'display: "Orthopnoea at night"')
    assert problems(rules) == [
        "red_flag breathing_difficulty: SNOMED 62744007 'Orthopnoea at night': "
        "the IPS free set calls it 'Orthopnea'"
    ]


def test_an_icd_10_cm_code_not_in_the_tabular_is_a_problem(rules: Path, edit: Edit) -> None:
    edit(rules / "valuesets" / "red_flags.yaml", "code: R53.1, display", "code: R53.9, display")
    assert problems(rules) == [
        "red_flag weakness: ICD-10-CM R53.9 is not in the tabular (simple-icd-10-cm 1.5.0)"
    ]


def test_an_edited_expansion_file_is_caught(rules: Path, edit: Edit) -> None:
    edit(
        rules / "terminology" / "icd-10-cm-expansions.yaml",
        "  - {code: R13.19, display: Other dysphagia}\n",
        "",
    )
    assert problems(rules) == [
        "ICD-10-CM family R13: the recorded expansion differs from the tabular (simple-icd-10-cm 1.5.0); "
        "run `cds rules expand`"
    ]
