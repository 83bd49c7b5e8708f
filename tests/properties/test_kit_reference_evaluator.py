"""The reference evaluator reads `when` the way the rule files document it, on small rule directories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cds.testing.reference import ReferenceEvaluator

SYMPTOM = {"id": "symptom:cramp", "kind": "symptom", "concept": "cramp"}


def _rules(
    tmp_path: Path, *rules: dict[str, Any], parameters: dict[str, Any] | None = None
) -> ReferenceEvaluator:
    (tmp_path / "definitions").mkdir()
    values = {name: {"value": value, "description": name} for name, value in (parameters or {}).items()}
    (tmp_path / "parameters.yaml").write_text(yaml.safe_dump({"parameters": values}))
    for rule in rules:
        (tmp_path / "definitions" / f"{rule['id']}.yaml").write_text(yaml.safe_dump(rule))
    return ReferenceEvaluator(tmp_path)


def _rule(rule_id: str, indicator: str = "info", **when: Any) -> dict[str, Any]:
    return {"id": rule_id, "when": when, "card": {"indicator": indicator}}


def _lab(value: Any, flag: str = "none") -> dict[str, Any]:
    return {"id": "lab:k", "kind": "lab", "analyte": "potassium", "value": value, "lab_flag": flag}


LOW_POTASSIUM = {"fact": "lab", "where": {"analyte": "potassium", "value": {"below": "$low"}}}


def test_comparison_against_a_parameter_holds_only_across_the_threshold(tmp_path: Path) -> None:
    rules = _rules(tmp_path, _rule("low", all=[{"fact": "symptom"}, LOW_POTASSIUM]), parameters={"low": 3.5})
    assert rules.evaluate([SYMPTOM, _lab(3.4)]).fired == ("low",)
    assert rules.evaluate([SYMPTOM, _lab(3.5)]).fired == ()


def test_a_list_means_one_of(tmp_path: Path) -> None:
    pattern = {"fact": "lab", "where": {"lab_flag": ["low", "critical_low"]}}
    rules = _rules(tmp_path, _rule("flagged", all=[pattern]))
    assert rules.evaluate([_lab(3.0, "critical_low")]).fired == ("flagged",)
    assert rules.evaluate([_lab(3.0, "normal")]).fired == ()


def test_a_boolean_never_equals_a_number(tmp_path: Path) -> None:
    rules = _rules(tmp_path, _rule("none", all=[{"fact": "record", "where": {"checked": False}}]))
    assert rules.evaluate([{"id": "record", "kind": "record", "checked": 0}]).fired == ()
    assert rules.evaluate([{"id": "record", "kind": "record", "checked": False}]).fired == ("none",)


def test_a_missing_field_matches_no_comparison(tmp_path: Path) -> None:
    pattern = {"fact": "lab", "where": {"value": {"not": 3}}}
    rules = _rules(tmp_path, _rule("any", all=[pattern]))
    assert rules.evaluate([{"id": "lab:x", "kind": "lab"}]).fired == ()


def test_two_patterns_need_two_different_facts(tmp_path: Path) -> None:
    rules = _rules(tmp_path, _rule("two", all=[{"fact": "symptom"}, {"fact": "symptom"}]))
    assert rules.evaluate([SYMPTOM]).fired == ()
    assert rules.evaluate([SYMPTOM, {**SYMPTOM, "id": "symptom:spasm"}]).fired == ("two",)


def test_any_needs_one_of_its_patterns(tmp_path: Path) -> None:
    rules = _rules(
        tmp_path, _rule("any", all=[{"fact": "symptom"}], any=[LOW_POTASSIUM]), parameters={"low": 3.5}
    )
    assert rules.evaluate([SYMPTOM]).fired == ()
    assert rules.evaluate([SYMPTOM, _lab(2.0)]).fired == ("any",)


def test_unless_and_unless_fired_hold_a_rule_back(tmp_path: Path) -> None:
    first = _rule("first", "warning", all=[{"fact": "symptom"}], unless=[{"fact": "red_flag"}])
    second = _rule("second", all=[{"fact": "symptom"}], unless_fired=["first"])
    rules = _rules(tmp_path, first, second)
    assert rules.evaluate([SYMPTOM]).fired == ("first",)
    flagged = rules.evaluate([SYMPTOM, {"id": "red_flag:w", "kind": "red_flag"}])
    assert (flagged.fired, flagged.top_indicator) == (("second",), "info")


def test_an_unknown_parameter_is_reported_with_its_file_and_field(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"low\.yaml: when\.all\[1\]\.where\.value\.below: unknown parameter \$low"
    ):
        _rules(tmp_path, _rule("low", all=[{"fact": "symptom"}, LOW_POTASSIUM]))


def test_rules_that_hold_each_other_back_are_refused(tmp_path: Path) -> None:
    one = _rule("one", all=[{"fact": "symptom"}], unless_fired=["two"])
    two = _rule("two", all=[{"fact": "symptom"}], unless_fired=["one"])
    with pytest.raises(ValueError, match="unless_fired forms a cycle"):
        _rules(tmp_path, one, two)


ENGINE_PATH = ("cds.rulebook", "cds.engine", "cds.findings", "cds.cards", "durable")


def test_the_reference_evaluator_loads_nothing_of_the_engine_path() -> None:
    listing = f"sorted(m for m in sys.modules if m.startswith({ENGINE_PATH}))"
    probe = f"import sys, cds.testing.reference; print({listing})"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
