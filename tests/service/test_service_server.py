"""The real `cds serve` process: start-up, refusals, crash safety of feedback, reload of every worker."""

from __future__ import annotations

import shutil
import signal
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from service_helpers import FEEDBACK, PATIENT_VIEW, wait_until
from service_process import ServiceProcess

from cds.cli.main import cli
from cds.cli.serve import EXAMPLE_BODY
from cds.rulebook import DEFAULT_RULES_DIR

pytestmark = pytest.mark.slow
PARAMETER = "persistent_after_weeks:\n    value: 6\n"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    started: list[ServiceProcess] = []

    def start(*args: str, data_dir: Path | None = None) -> ServiceProcess:
        service = ServiceProcess(data_dir or tmp_path / "var", *args)
        started.append(service)  # before it starts: a start that times out is stopped too
        return service.start()

    yield start
    for service in started:
        service.ensure_stopped()


def _worker_healths(service: ServiceProcess, workers: int) -> dict[int, dict[str, Any]]:
    """The health of every worker, asking over fresh connections until each one has answered."""
    seen: dict[int, dict[str, Any]] = {}

    def everyone_answered() -> bool:
        health = service.health()
        seen[health["pid"]] = health
        return len(seen) == workers

    wait_until(everyone_answered)
    return seen


def test_cds_serve_prints_where_it_listens_and_answers_its_own_curl_example(
    services: Callable[..., ServiceProcess],
) -> None:
    service = services("--no-auth")
    assert f"Listening on http://127.0.0.1:{service.port}" in service.output()
    assert EXAMPLE_BODY in service.output()
    response = httpx.post(
        f"{service.url}{PATIENT_VIEW}", content=EXAMPLE_BODY, headers={"content-type": "application/json"}
    )
    assert response.json() == {"cards": []}
    assert service.stop() == 0
    assert not (service.data_dir / "cds.pid").exists()


def test_cds_serve_refuses_to_turn_auth_off_on_a_public_address(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--no-auth", "--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "only listens on loopback" in result.output


def test_a_second_service_on_the_same_data_directory_is_refused(
    services: Callable[..., ServiceProcess], tmp_path: Path
) -> None:
    first = services("--no-auth")
    with socket.create_server(("127.0.0.1", 0)) as probe:  # a port free to bind, even without root
        port = str(probe.getsockname()[1])
    args = ["serve", "--no-auth", "--port", port, "--data-dir", str(first.data_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert "another cds serve" in result.output


def test_every_acknowledged_feedback_survives_a_kill_of_the_server(
    services: Callable[..., ServiceProcess], tmp_path: Path
) -> None:
    service = services("--no-auth", "--workers", "2")
    acknowledged: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=service.url, timeout=5.0) as http:
            while not stop.is_set():
                card = str(uuid.uuid4())
                entry = {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z"}
                try:
                    if http.post(FEEDBACK, json={"feedback": [entry]}).status_code == 200:
                        acknowledged.append(card)
                except httpx.HTTPError:
                    return

    clients = [threading.Thread(target=client) for _ in range(12)]
    for thread in clients:
        thread.start()
    wait_until(lambda: len(acknowledged) >= 200)
    service.kill_all()
    stop.set()
    for thread in clients:
        thread.join()
    services("--no-auth")
    with sqlite3.connect(tmp_path / "var" / "cds.sqlite3") as db:
        stored = {row[0] for row in db.execute("SELECT card_uuid FROM feedback")}
    assert set(acknowledged) <= stored


def test_sighup_reloads_every_worker_and_broken_rules_leave_the_old_ones_live(
    services: Callable[..., ServiceProcess], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    service = services("--no-auth", "--workers", "2", "--rules", str(rules))
    original = {h["rulesVersion"] for h in _worker_healths(service, 2).values()}
    parameters = rules / "parameters.yaml"
    parameters.write_text(parameters.read_text().replace(PARAMETER, PARAMETER.replace("6", "7")))
    service.signal(signal.SIGHUP)
    wait_until(lambda: all(h.get("lastReload") for h in _worker_healths(service, 2).values()))
    reloaded = {h["rulesVersion"] for h in _worker_healths(service, 2).values()}
    parameters.write_text(parameters.read_text() + "\nbroken: [\n")
    service.signal(signal.SIGHUP)
    wait_until(
        lambda: all(h["lastReload"]["status"] == "rejected" for h in _worker_healths(service, 2).values())
    )
    kept = {h["rulesVersion"] for h in _worker_healths(service, 2).values()}
    assert len(original) == len(reloaded) == 1 and original != reloaded
    assert kept == reloaded
    assert httpx.post(f"{service.url}{PATIENT_VIEW}", content=EXAMPLE_BODY).status_code == 200


def test_cds_reload_signals_the_service_found_by_its_pid_file(
    services: Callable[..., ServiceProcess], tmp_path: Path
) -> None:
    service = services("--no-auth")
    result = CliRunner().invoke(cli, ["reload", "--data-dir", str(service.data_dir)])
    assert result.exit_code == 0, result.output
    wait_until(lambda: service.health().get("lastReload", {}).get("status") == "unchanged")
