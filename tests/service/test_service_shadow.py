"""Shadow mode in the service: candidate rules evaluated on each call after the answer, never shown."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rules_copy import copy_rules, edit
from service_helpers import PATIENT_VIEW, MakeClient, TestClient, hook_call, metric_sample
from shadow_charts import magnesium_chart

from cds.rulebook import RulebookError, load_rulebook
from cds.service import Settings, create_app
from cds.service.state import ServiceState
from cds.shadow.runner import Shadow
from cds.store import ShadowRecord

MAGNESIUM = "  magnesium_low_mg_dl:\n    value: 1.7"
WAIT = 120.0
"""Seconds a test waits for shadow work: spawning the candidate's process is slow on a busy machine."""


def _candidate(folder: Path, threshold: str = "1.5") -> Path:
    rules = copy_rules(folder)
    edit(rules / "parameters.yaml", MAGNESIUM, f"  magnesium_low_mg_dl:\n    value: {threshold}")
    return rules


def _state(client: TestClient) -> ServiceState:
    state = client.app.state.service  # type: ignore[attr-defined]
    assert isinstance(state, ServiceState)
    return state


def _shadow(client: TestClient) -> Shadow:
    shadow = _state(client).shadow
    assert shadow is not None
    return shadow


def _records_after(client: TestClient, *bodies: dict[str, Any]) -> list[ShadowRecord]:
    """Posts each call, waits for the shadow to finish them, and returns every record so far."""
    for body in bodies:
        assert client.post(PATIENT_VIEW, json=body).status_code == 200
    assert _shadow(client).wait_idle(WAIT)
    return _state(client).store.shadow_calls()


def _call(hook_instance: str, magnesium: float = 1.6) -> dict[str, Any]:
    return hook_call(magnesium_chart(magnesium), hookInstance=hook_instance)


@pytest.fixture(scope="module")
def candidate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _candidate(tmp_path_factory.mktemp("candidate"))


@pytest.fixture
def shadowed(make_client: MakeClient, candidate_dir: Path) -> Iterator[TestClient]:
    yield make_client(shadow_rules=candidate_dir)


def test_the_candidates_cards_are_never_returned(shadowed: TestClient) -> None:
    response = shadowed.post(PATIENT_VIEW, json=_call("00000000-0000-4000-8000-000000000001"))
    assert [card["source"]["topic"]["code"] for card in response.json()["cards"]] == [
        "spasm-benign-contributors"
    ]


def test_a_shadowed_call_leaves_one_record_with_the_cards_of_both_sides(
    shadowed: TestClient, candidate_dir: Path
) -> None:
    hook = "00000000-0000-4000-8000-000000000002"
    response = shadowed.post(PATIENT_VIEW, json=_call(hook))
    assert _shadow(shadowed).wait_idle(WAIT)
    (record,) = _state(shadowed).store.shadow_calls()
    live_card = response.json()["cards"][0]
    assert (record.hook_instance, record.service) == (hook, "spasm-patient-view")
    assert [(c.rule_id, c.indicator, c.uuid) for c in record.live_cards] == [
        ("spasm-benign-contributors", "info", live_card["uuid"])
    ]
    assert record.candidate_cards == ()
    assert record.live_rules_version == _state(shadowed).holder.current.version
    assert record.candidate_rules_version == load_rulebook(candidate_dir).version


def test_the_rules_diff_of_the_pair_is_kept_for_the_report(shadowed: TestClient) -> None:
    _records_after(shadowed, _call("00000000-0000-4000-8000-000000000003"))
    (pair,) = _state(shadowed).store.shadow_pairs()
    assert [(p["name"], p["old"], p["new"]) for p in pair.diff["parameters"]] == [
        ("magnesium_low_mg_dl", 1.7, 1.5)
    ]


def test_metrics_count_shadow_evaluations_and_differences(shadowed: TestClient) -> None:
    before = {
        name: metric_sample(shadowed, name)
        for name in ("cds_shadow_evaluations_total", "cds_shadow_differences_total")
    }
    _records_after(
        shadowed,
        _call("00000000-0000-4000-8000-000000000004", magnesium=1.6),
        _call("00000000-0000-4000-8000-000000000005", magnesium=1.3),
    )
    assert (
        metric_sample(shadowed, "cds_shadow_evaluations_total") == before["cds_shadow_evaluations_total"] + 2
    )
    assert (
        metric_sample(shadowed, "cds_shadow_differences_total") == before["cds_shadow_differences_total"] + 1
    )


def test_healthz_names_the_candidate_rules_version(shadowed: TestClient, candidate_dir: Path) -> None:
    assert shadowed.get("/healthz").json()["shadowRulesVersion"] == load_rulebook(candidate_dir).version


def test_a_reloaded_candidate_shadows_the_calls_after_it(make_client: MakeClient, tmp_path: Path) -> None:
    candidate = _candidate(tmp_path / "edit")
    client = make_client(shadow_rules=candidate)
    first = _shadow(client).version
    edit(candidate / "parameters.yaml", "value: 1.5", "value: 1.2")
    result = _shadow(client).reload()
    assert result.status == "reloaded" and result.rules_version != first
    records = _records_after(client, _call("00000000-0000-4000-8000-000000000006"))
    assert [r.candidate_rules_version for r in records] == [result.rules_version]
    assert client.get("/healthz").json()["lastShadowReload"]["status"] == "reloaded"


def test_a_broken_candidate_is_refused_and_the_one_before_keeps_shadowing(
    make_client: MakeClient, tmp_path: Path
) -> None:
    candidate = _candidate(tmp_path / "edit")
    client = make_client(shadow_rules=candidate)
    working = _shadow(client).version
    edit(candidate / "parameters.yaml", "magnesium_low_mg_dl:", "magnesium_low_mg_dl_typo:")
    result = _shadow(client).reload()
    assert (result.status, result.rules_version) == ("rejected", working)
    assert any("magnesium_low_mg_dl" in problem for problem in result.problems)
    records = _records_after(client, _call("00000000-0000-4000-8000-000000000007"))
    assert [r.candidate_rules_version for r in records] == [working]
    assert metric_sample(client, "cds_shadow_reloads_total", result="rejected") >= 1


def test_a_candidate_process_that_dies_is_replaced_and_live_calls_go_on(shadowed: TestClient) -> None:
    _records_after(shadowed, _call("00000000-0000-4000-8000-000000000008"))
    pid = _shadow(shadowed).candidate.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    records = _records_after(
        shadowed, _call("00000000-0000-4000-8000-000000000009"), _call("00000000-0000-4000-8000-00000000000a")
    )
    assert records[-1].hook_instance == "00000000-0000-4000-8000-00000000000a"
    assert _shadow(shadowed).candidate.pid not in (None, pid)


def test_broken_candidate_rules_stop_start_up_with_every_problem(tmp_path: Path) -> None:
    candidate = _candidate(tmp_path / "edit")
    edit(candidate / "parameters.yaml", "magnesium_low_mg_dl:", "magnesium_low_mg_dl_typo:")
    with pytest.raises(RulebookError, match="magnesium_low_mg_dl"):
        create_app(Settings(auth="off", data_dir=tmp_path / "var", shadow_rules=candidate))
