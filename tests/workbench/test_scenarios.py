"""Population scenarios are data: a YAML file of record lines and draws, checked against the rules."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from rules_copy import copy_rules, edit

from cds.cli.main import cli
from cds.fhir import InputError
from cds.rulebook import DEFAULT_RULES_DIR, Rulebook
from cds.workbench.scenarios import SCENARIOS_FILE, load_scenarios, scenarios_path


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text)
    return path


def test_the_shipped_scenarios_are_the_rules_own(rulebook: Rulebook) -> None:
    assert scenarios_path(rulebook, None) == DEFAULT_RULES_DIR / SCENARIOS_FILE
    scenarios = load_scenarios(scenarios_path(rulebook, None), rulebook)
    assert "cramp with a magnesium result" in [s.name for s in scenarios.scenarios]


def test_draws_stay_within_their_bounds_and_keep_their_decimals(tmp_path: Path, rulebook: Rulebook) -> None:
    path = _file(
        tmp_path,
        "draws:\n  days: {between: [3, 5]}\n  magnesium: {between: [1.2, 1.4], decimals: 1}\n"
        "scenarios:\n  - name: low magnesium\n    record: ['magnesium {magnesium} mg/dL {days} days ago']\n",
    )
    scenarios = load_scenarios(path, rulebook)
    rng = random.Random(1)
    values = [scenarios.draw(rng) for _ in range(200)]
    assert {v["days"] for v in values} == {3, 4, 5}
    assert {v["magnesium"] for v in values} <= {1.2, 1.3, 1.4}


def test_a_word_the_rules_do_not_know_is_refused_with_its_line_and_field(
    tmp_path: Path, rulebook: Rulebook
) -> None:
    record = "    record:\n      - cramp, onset 3 days ago\n      - magnesum 1.3 mg/dL 2 days ago\n"
    path = _file(tmp_path, "scenarios:\n  - name: typo\n" + record)
    with pytest.raises(InputError) as raised:
        load_scenarios(path, rulebook)
    assert f"{path}:5: scenarios.0.record.1: 'magnesum 1.3 mg/dL 2 days ago': " in str(raised.value)
    assert "did you mean 'magnesium'?" in str(raised.value)


def test_a_value_no_draw_defines_is_refused_naming_the_draws(tmp_path: Path, rulebook: Rulebook) -> None:
    path = _file(
        tmp_path,
        "draws:\n  recent: {between: [1, 9]}\n"
        "scenarios:\n  - name: cramp\n    record: ['cramp, onset {recnt} days ago']\n",
    )
    with pytest.raises(
        InputError, match=r":5: scenarios\.0\.record\.0: .*\{recnt\} is not one of the draws \(recent\)"
    ):
        load_scenarios(path, rulebook)


def test_schema_mistakes_are_all_reported_with_line_and_field(tmp_path: Path, rulebook: Rulebook) -> None:
    path = _file(
        tmp_path,
        "draws:\n  mg: {between: [2.3, 1.2], decimals: 1}\n"
        "scenarios:\n  - name: cramp\n    weight: 0\n    recrod: ['cramp']\n",
    )
    with pytest.raises(InputError) as raised:
        load_scenarios(path, rulebook)
    message = str(raised.value)
    assert "problems in the population scenarios" in message
    assert f"{path}:2: draws.mg: between: the low bound 2.3 is above the high bound 1.2" in message
    assert f"{path}:5: scenarios.0.weight: " in message
    assert f"{path}:6: scenarios.0.recrod: " in message
    assert f"{path}:4: scenarios.0.record: " in message


def test_two_scenarios_of_one_name_are_refused(tmp_path: Path, rulebook: Rulebook) -> None:
    path = _file(
        tmp_path, "scenarios:\n  - {name: cramp, record: [cramp]}\n  - {name: cramp, record: [spasm]}\n"
    )
    with pytest.raises(InputError, match=r":3: scenarios\.1\.name: 'cramp' names an earlier scenario too"):
        load_scenarios(path, rulebook)


def test_a_file_that_is_not_yaml_is_refused_with_its_line(tmp_path: Path, rulebook: Rulebook) -> None:
    path = _file(tmp_path, "scenarios:\n  - name: [unclosed\n")
    with pytest.raises(InputError, match=rf"{path}:\d+: not valid YAML"):
        load_scenarios(path, rulebook)


HYPOTHYROIDISM = """
  hypothyroidism:
    label: hypothyroidism
    group: contributor
    advice: check thyroid replacement and TSH
    codes:
      - {system: snomed, code: "40930008", display: Hypothyroidism, status: confirmed, source: IPS}
      - {system: icd-10-cm, code: E03.9, display: "Hypothyroidism, unspecified", status: confirmed,
         source: CMS}
"""
TSH = """
  tsh:
    label: TSH
    unit: mIU/L
    units: {mIU/L: 1.0}
    codes:
      - system: loinc
        code: 3016-3
        display: Thyrotropin [Units/volume] in Serum or Plasma
        status: repo-only
        note: HL7 FHIR example servicerequest-example-ft4 (its contained order 'tsh'), not LOINC itself
"""
TSH_THRESHOLD = """
  tsh_high_miu_l:
    value: 4.5
    unit: mIU/L
    description: TSH above this is a contributor when the lab gives no range (illustrative; use your lab's).
"""
HIGH_TSH = """
    - fact: lab
      where: {analyte: tsh, lab_flag: none, value: {above: $tsh_high_miu_l}}
      label: high TSH
      because: above {tsh_high_miu_l} mIU/L (default threshold; the lab gave no range)
      advice: check for hypothyroidism
"""
THYROID_SCENARIOS = Path(__file__).parent / "data" / "thyroid-scenarios.yaml"


@pytest.fixture
def thyroid_rules(tmp_path: Path) -> Path:
    """docs/workbench.md's example: hypothyroidism and a TSH lab added to a copy of the rules."""
    rules = copy_rules(tmp_path)
    edit(rules / "valuesets" / "problems.yaml", "concepts:\n", "concepts:" + HYPOTHYROIDISM)
    edit(rules / "valuesets" / "labs.yaml", "concepts:\n", "concepts:" + TSH)
    edit(rules / "parameters.yaml", "parameters:\n", "parameters:" + TSH_THRESHOLD)
    edit(rules / "definitions" / "40-benign-contributors.yaml", "  any:\n", "  any:" + HIGH_TSH)
    return rules


def _subjects(export: Path, rtype: str, code: str) -> dict[str, float | None]:
    """Patient id -> value of each resource of `rtype` carrying `code`."""
    found: dict[str, float | None] = {}
    for line in (export / f"{rtype}.ndjson").read_bytes().splitlines():
        resource = orjson.loads(line)
        if any(c["code"] == code for c in resource["code"]["coding"]):
            found[resource["subject"]["reference"].removeprefix("Patient/")] = resource.get(
                "valueQuantity", {}
            ).get("value")
    return found


@pytest.mark.slow
def test_a_concept_added_to_the_rules_is_back_tested_from_a_scenarios_file(
    thyroid_rules: Path, source: Path, tmp_path: Path
) -> None:
    export, report = tmp_path / "pop", tmp_path / "report"
    make = ["population", "make", "--patients", "60", "--spasm-share", "1", "--seed", "4"]
    make += ["--now", "2026-11-25", "--rules", str(thyroid_rules), "--scenarios", str(THYROID_SCENARIOS)]
    made = CliRunner().invoke(cli, [*make, "--source", str(source), "--out", str(export)])
    assert made.exit_code == 0, made.output
    summary = orjson.loads((export / "manifest.json").read_bytes())["extension"]["spasm-cds-population"]
    assert set(summary["scenarios"]) == {"cramp with a TSH result", "cramp with hypothyroidism"}
    backtest = ["backtest", str(export), "--rules", str(thyroid_rules), "--baseline", str(DEFAULT_RULES_DIR)]
    ran = CliRunner().invoke(cli, [*backtest, "--workers", "1", "--out", str(report), "--no-progress"])
    assert ran.exit_code == 0, ran.output
    with (report / "changes.csv").open() as stream:
        changed = {row["patient_id"]: row for row in csv.DictReader(stream)}
    hypothyroid = set(_subjects(export, "Condition", "40930008"))
    high_tsh = {p for p, value in _subjects(export, "Observation", "3016-3").items() if value and value > 4.5}
    assert changed and set(changed) <= hypothyroid | high_tsh
    assert set(changed) & hypothyroid and set(changed) & high_tsh
    assert {(r["before_cards"], r["after_cards"]) for r in changed.values()} == {
        ("spasm-electrolyte-workup", "spasm-benign-contributors")
    }
    for patient in set(changed) & hypothyroid:
        assert changed[patient]["why"].startswith("spasm-benign-contributors now fires: hypothyroidism on ")
        assert (
            "not recognised by the baseline rules (codes added 40930008, added E03.9)"
            in changed[patient]["why"]
        )
    for patient in set(changed) & high_tsh - hypothyroid:
        assert re.match(
            r"spasm-benign-contributors now fires: TSH [\d.]+ mIU/L on \S+, now above the threshold 4\.5",
            changed[patient]["why"],
        )
