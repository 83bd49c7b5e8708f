"""Generated populations: fresh ids, an exact share with spasm findings, and nothing that changes a card."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest

from cds.evaluation import Evaluator
from cds.facts.extract import FactSet
from cds.fhir import InputError, PatientMatcher, patient_ids, read_input, read_path
from cds.rulebook import Rulebook
from cds.workbench.generator import PopulationSpec, make_population
from cds.workbench.population import open_population
from cds.workbench.scenarios import Scenarios
from cds.workbench.snapshot import RulesSnapshot
from cds.workbench.worker import evaluate_batch

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def _lines(folder: Path, rtype: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in (folder / f"{rtype}.ndjson").read_bytes().splitlines()]


def _manifest(folder: Path) -> dict[str, Any]:
    extension: dict[str, Any] = orjson.loads((folder / "manifest.json").read_bytes())["extension"]
    return extension["spasm-cds-population"]  # type: ignore[no-any-return]


def _seen(facts: FactSet) -> tuple[object, ...]:
    """What the rules and the cards see of the facts; where each resource sat in the input is left out."""
    return (
        [f.model_dump(exclude={"evidence"}) for f in facts.facts],
        [[e.model_dump(exclude={"origin"}) for e in f.evidence] for f in facts.facts],
        facts.set_aside,
    )


def test_every_patient_has_a_fresh_id(population: Path, source: Path) -> None:
    ids = [p["id"] for p in _lines(population, "Patient")]
    sources = {path.name.split(".")[0] for path in source.iterdir()}
    assert len(ids) == len(set(ids)) == 300 and not sources & set(ids)


def test_resource_ids_are_unique_across_the_population(population: Path) -> None:
    ids = [r["id"] for r in _lines(population, "Observation")]
    assert len(ids) == len(set(ids))


def test_an_exact_share_of_patients_get_spasm_findings(population: Path) -> None:
    summary = _manifest(population)
    assert summary["patients_with_spasm_findings"] == 100
    assert sum(summary["scenarios"].values()) == 100


def test_the_same_seed_gives_the_same_population(
    tmp_path: Path, source: Path, rulebook: Rulebook, scenarios: Scenarios
) -> None:
    for name in ("one", "two"):
        spec = PopulationSpec(
            source=source, out=tmp_path / name, patients=20, spasm_share=0.5, seed=3, now=NOW
        )
        make_population(spec, rulebook, scenarios)
    for rtype in ("Patient", "Condition", "Observation"):
        assert (tmp_path / "one" / f"{rtype}.ndjson").read_bytes() == (
            tmp_path / "two" / f"{rtype}.ndjson"
        ).read_bytes()


def test_an_output_folder_that_is_not_empty_is_refused(
    tmp_path: Path, source: Path, rulebook: Rulebook, scenarios: Scenarios
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    spec = PopulationSpec(source=source, out=tmp_path, patients=1, spasm_share=0, now=NOW)
    with pytest.raises(InputError, match="empty folder"):
        make_population(spec, rulebook, scenarios)


def test_history_shorter_than_a_time_window_is_refused(
    tmp_path: Path, source: Path, rulebook: Rulebook, scenarios: Scenarios
) -> None:
    spec = PopulationSpec(
        source=source, out=tmp_path / "p", patients=1, spasm_share=0, now=NOW, history_days=90
    )
    with pytest.raises(InputError, match="must exceed red_flag_window_days"):
        make_population(spec, rulebook, scenarios)


def test_keeping_only_what_the_rules_read_changes_no_fact(
    synthea: Path, rulebook: Rulebook, evaluator: Evaluator
) -> None:
    from cds.workbench.generator import _kept

    compared = 0
    for path in sorted(synthea.glob("1*.json.gz"))[:6]:
        read = read_path(path)
        patient = patient_ids(read.resources)[0]
        kept = _kept(read.resources, PatientMatcher.for_patient(patient, read.resources), rulebook)
        trimmed = read_input(b"\n".join(orjson.dumps(r) for r in kept))
        full = evaluator.evaluate(read, patient_id=patient, now=NOW).facts
        cut = evaluator.evaluate(trimmed, patient_id=patient, now=NOW).facts
        assert _seen(cut) == _seen(full), path.name
        compared += len(full.set_aside)
    assert compared > 20


def test_cutting_old_lab_history_changes_no_patients_cards(
    tmp_path: Path, source: Path, rulebook: Rulebook, scenarios: Scenarios
) -> None:
    outcomes = []
    for name, history in (("whole", None), ("cut", 200)):
        spec = PopulationSpec(
            source=source,
            out=tmp_path / name,
            patients=150,
            spasm_share=0.5,
            seed=5,
            now=NOW,
            history_days=history,
        )
        make_population(spec, rulebook, scenarios)
        batch = list(open_population(tmp_path / name))
        outcomes.append(
            sorted(evaluate_batch(batch, (RulesSnapshot.take(None),), NOW), key=lambda o: o.patient_id or "")
        )
    assert outcomes[0] == outcomes[1]
    assert sum(1 for o in outcomes[0] if o.cards[0]) > 30
