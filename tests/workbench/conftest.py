"""Workbench fixtures: the shipped rules' vocabulary, and one small generated population per session."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from cds.rulebook import Rulebook
from cds.workbench.generator import PopulationSpec, make_population
from cds.workbench.lexicon import Lexicon
from cds.workbench.scenarios import Scenarios, load_scenarios, scenarios_path

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def lexicon(rulebook: Rulebook) -> Lexicon:
    return Lexicon(rulebook)


@pytest.fixture(scope="session")
def scenarios(rulebook: Rulebook) -> Scenarios:
    """The shipped population scenarios."""
    return load_scenarios(scenarios_path(rulebook, None), rulebook)


@pytest.fixture(scope="session")
def synthea(shared_data: Path) -> Path:
    return shared_data / "synthea-r4"


@pytest.fixture(scope="session")
def source(synthea: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve Synthea patients, so that copying them costs a fraction of a second."""
    folder = tmp_path_factory.mktemp("synthea")
    for path in sorted(synthea.glob("*.json.gz"))[:12]:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def population(
    source: Path, rulebook: Rulebook, scenarios: Scenarios, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """300 patients, a third with spasm findings, as a Bulk Data export."""
    out = tmp_path_factory.mktemp("population") / "export"
    spec = PopulationSpec(source=source, out=out, patients=300, spasm_share=1 / 3, seed=11, now=NOW)
    make_population(spec, rulebook, scenarios)
    return out
