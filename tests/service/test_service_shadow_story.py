"""The informaticist's story, end to end on a running `cds serve`: edit a copy of the rules, check and
test it, shadow it while calls arrive, read the shadow report (the change, the differences, what
clinicians did with the cards it would remove), make it live, and see feedback split by rules version.

The README's workbench section shows this story with the output of a real run."""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result
from rules_copy import copy_rules, set_parameter
from service_helpers import FEEDBACK, PATIENT_VIEW, hook_call
from service_process import ServiceProcess
from shadow_charts import magnesium_chart

from cds.cli.main import cli
from cds.rulebook import load_rulebook

WAIT = 120.0


def _cds(*args: str) -> Result:
    """The command line in this process (the service is the real one, in its own process)."""
    return CliRunner().invoke(cli, list(args))


def _call(client: httpx.Client, magnesium: float) -> dict[str, Any]:
    body = hook_call(magnesium_chart(magnesium), hookInstance=str(uuid.uuid4()))
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()
    return card


def _override(client: httpx.Client, card: dict[str, Any]) -> None:
    reason = card["overrideReasons"][0]
    entry = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": reason, "userComment": "magnesium replaced last week"},
        "outcomeTimestamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
    assert client.post(FEEDBACK, json={"feedback": [entry]}).status_code == 200


def _wait_for(what: str, check: Any) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _shadowed_calls(service: ServiceProcess) -> int:
    metrics = httpx.get(f"{service.url}/metrics").text
    line = next(line for line in metrics.splitlines() if line.startswith("cds_shadow_evaluations_total "))
    return int(float(line.split()[1]))


@pytest.mark.slow
def test_a_threshold_change_from_edit_through_shadow_to_live(tmp_path: Path) -> None:
    live_rules = copy_rules(tmp_path / "live")
    mine = shutil.copytree(live_rules, tmp_path / "my-rules")
    set_parameter(mine, "magnesium_low_mg_dl", "1.7", "1.5")
    old, new = load_rulebook(live_rules).version, load_rulebook(mine).version

    # Check and test the edited copy; the diff says what changed.
    checked = _cds("rules", "check", str(mine))
    assert checked.exit_code == 0 and f"rules version {new}" in checked.stdout, checked.output
    tested = _cds("rules", "test", "--rules", str(mine))
    assert tested.exit_code in (0, 1) and f"against rules version {new}" in tested.stdout, tested.output
    diffed = _cds("rules", "diff", str(live_rules), str(mine))
    assert "~ magnesium_low_mg_dl: 1.7 mg/dL -> 1.5 mg/dL" in diffed.stdout, diffed.output

    # Shadow it while calls arrive: three charts with magnesium 1.6 (low today, not with the edit), one 1.3.
    data = tmp_path / "var"
    service = ServiceProcess(data, "--no-auth", "--rules", str(live_rules), "--shadow-rules", str(mine))
    try:
        service.start(WAIT)
        with httpx.Client(base_url=service.url, timeout=30.0) as client:
            removed = [_call(client, 1.6)["cards"][0] for _ in range(3)]
            assert [c["indicator"] for c in _call(client, 1.3)["cards"]] == ["info"]
            _override(client, removed[0])
            _wait_for("4 shadowed calls", lambda: _shadowed_calls(service) == 4)

            # The shadow report: both versions, the change, the differences, the feedback on removed cards.
            report = _cds("shadow", "report", "--data-dir", str(data), "--html", str(tmp_path / "html"))
            assert report.exit_code == 0, report.output
            text = report.stdout
            assert text.startswith(f"Live rules {old} -> candidate rules {new}: 4 calls shadowed")
            assert "3 where the cards differ" in text
            assert "~ magnesium_low_mg_dl: 1.7 mg/dL -> 1.5 mg/dL (used by spasm-benign-contributors)" in text
            assert "info -> none: 3" in text
            reason = removed[0]["overrideReasons"][0]["display"]
            assert (
                f"spasm-benign-contributors: 3 cards: accepted 0, overridden 1 ({reason}: 1), no feedback 2"
            ) in text
            assert (tmp_path / "html" / "shadow-report.html").is_file()

            # Make it live: the service validates, then swaps; the candidate is now the live rules.
            shutil.copy(mine / "parameters.yaml", live_rules / "parameters.yaml")
            assert _cds("reload", "--data-dir", str(data)).exit_code == 0
            _wait_for("the new rules live", lambda: service.health()["rulesVersion"] == new)
            assert _call(client, 1.6)["cards"] == []
            _override(client, _call(client, 1.3)["cards"][0])

        # Feedback split by rules version: before and after the change are never lumped together. The
        # cards of the last calls may still wait in the audit writer's queue; a shutdown writes them.
        assert service.stop() == 0
        feedback = _cds("feedback", "report", "--data-dir", str(data), "--json")
        assert feedback.exit_code == 0, feedback.output
        counts = {
            (r["rules_version"], r["rule_id"]): (r["issued"], r["accepted"], r["overridden"])
            for r in map(orjson.loads, feedback.stdout.splitlines())
        }
        assert counts[(old, "spasm-benign-contributors")] == (4, 0, 1)
        assert counts[(new, "spasm-benign-contributors")] == (1, 0, 1)
    finally:
        service.ensure_stopped()
