"""Hot reload: new rules replace old ones only when they load, and never under a request in flight."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from cds.engine import EngineError
from cds.fhir import read_prefetch
from cds.rulebook import DEFAULT_RULES_DIR
from cds.service import Settings, create_app
from cds.service.reload import RulesHolder

PARAMETER = "persistent_after_weeks:\n    value: 6\n"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, copy)
    return copy


def _edit_parameters(rules_dir: Path, change: Callable[[str], str]) -> None:
    path = rules_dir / "parameters.yaml"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def _seven_weeks(text: str) -> str:
    assert PARAMETER in text
    return text.replace(PARAMETER, PARAMETER.replace("6", "7"))


def test_a_changed_parameter_is_picked_up(rules_dir: Path) -> None:
    holder = RulesHolder.load(rules_dir)
    _edit_parameters(rules_dir, _seven_weeks)
    result = holder.reload()
    assert result.status == "reloaded"
    assert holder.current.evaluator.rulebook.value("persistent_after_weeks") == 7


def test_unchanged_rules_are_kept_as_they_are(rules_dir: Path) -> None:
    holder = RulesHolder.load(rules_dir)
    before = holder.current
    assert holder.reload().status == "unchanged"
    assert holder.current is before


def test_broken_rules_are_rejected_and_the_old_rules_stay_live(
    rules_dir: Path, urgent_prefetch: dict[str, Any]
) -> None:
    holder = RulesHolder.load(rules_dir)
    before = holder.current
    _edit_parameters(rules_dir, lambda text: text + "\nbroken: [\n")
    result = holder.reload()
    assert (result.status, result.rules_version) == ("rejected", before.version)
    assert "parameters.yaml" in result.problems[0]
    assert holder.current is before
    assert before.evaluator.evaluate(read_prefetch(urgent_prefetch), patient_id="pat-001").response.cards


def test_a_request_keeps_the_rules_it_started_with(rules_dir: Path, urgent_prefetch: dict[str, Any]) -> None:
    holder = RulesHolder.load(rules_dir)
    with holder.acquire() as active:
        _edit_parameters(rules_dir, _seven_weeks)
        holder.reload()
        assert holder.current is not active
        assert active.evaluator.evaluate(read_prefetch(urgent_prefetch), patient_id="pat-001").response.cards


def test_retired_rules_are_closed_once_their_last_request_ends(
    rules_dir: Path, urgent_prefetch: dict[str, Any]
) -> None:
    holder = RulesHolder.load(rules_dir)
    with holder.acquire() as active:
        _edit_parameters(rules_dir, _seven_weeks)
        holder.reload()
    with pytest.raises(EngineError):
        active.evaluator.evaluate(read_prefetch(urgent_prefetch), patient_id="pat-001")


def test_health_shows_the_rules_version_in_use_and_the_last_reload(rules_dir: Path, tmp_path: Path) -> None:
    holder = RulesHolder.load(rules_dir)
    settings = Settings(auth="off", data_dir=tmp_path / "var", rules_dir=rules_dir)
    with TestClient(create_app(settings, holder=holder)) as client:
        before = client.get("/healthz").json()["rulesVersion"]
        _edit_parameters(rules_dir, _seven_weeks)
        holder.reload()
        health = client.get("/healthz").json()
    assert health["rulesVersion"] != before
    assert health["lastReload"]["status"] == "reloaded"
