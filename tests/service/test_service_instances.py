"""Two `cds serve` instances behind one URL on one PostgreSQL: one truth for tokens, cards, feedback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from joserfc.jwk import ECKey
from postgres_server import PostgresServer
from service_helpers import FEEDBACK, ISSUER, PATIENT_VIEW, bearer, claims, hook_call, public_jwks, sign
from service_process import ServiceProcess

from cds.cli.main import cli
from cds.store import open_store

pytestmark = pytest.mark.slow
PUBLIC = "https://cds.example.test"


@pytest.fixture
def database(postgres: PostgresServer) -> str:
    return postgres.new_database()


@pytest.fixture
def instances(
    tmp_path: Path, database: str, es384_key: ECKey
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """Two instances with their own data directories, as on two machines behind a load balancer."""
    issuers = orjson.dumps([{"iss": ISSUER, "jwks": public_jwks(es384_key)}]).decode()
    env = {"CDS_DATABASE_URL": database, "CDS_TRUSTED_ISSUERS": issuers, "CDS_PUBLIC_BASE_URL": PUBLIC}
    started = [ServiceProcess(tmp_path / name / "var", env=env) for name in ("a", "b")]
    try:
        for service in started:
            service.data_dir.mkdir(parents=True)
            service.start()
        yield started[0], started[1]
    finally:
        for service in started:
            service.ensure_stopped()


def _post(
    service: ServiceProcess, key: ECKey, path: str, body: dict[str, Any], token: str | None = None
) -> httpx.Response:
    token = token or sign(key, claims(PUBLIC + path))
    return httpx.post(service.url + path, json=body, headers=bearer(token), timeout=10.0)


def _overridden(card: str) -> dict[str, Any]:
    return {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z"}]}


def test_a_token_used_on_one_instance_is_refused_by_the_other(
    instances: tuple[ServiceProcess, ServiceProcess], es384_key: ECKey, urgent_prefetch: dict[str, Any]
) -> None:
    a, b = instances
    call = hook_call(urgent_prefetch)
    token = sign(es384_key, claims(PUBLIC + PATIENT_VIEW))
    replayed = [_post(s, es384_key, PATIENT_VIEW, call, token).status_code for s in (a, b)]
    fresh = _post(b, es384_key, PATIENT_VIEW, call).status_code
    assert (replayed, fresh) == ([200, 401], 200)


def test_feedback_to_either_instance_is_matched_to_a_card_the_other_issued(
    instances: tuple[ServiceProcess, ServiceProcess],
    es384_key: ECKey,
    urgent_prefetch: dict[str, Any],
    database: str,
) -> None:
    a, b = instances
    for issuer, receiver in ((a, b), (b, a)):
        card = _post(issuer, es384_key, PATIENT_VIEW, hook_call(urgent_prefetch)).json()["cards"][0]
        assert _post(receiver, es384_key, FEEDBACK, _overridden(card["uuid"])).status_code == 200
    report = _report_when_issued(database, 2)
    assert "spasm-urgent-red-flag (version 1.0.0)" in report
    assert "issued: 2   accepted: 0   overridden: 2" in report
    assert "not issued by this service" not in report


def test_every_call_to_either_instance_leaves_one_audit_record(
    instances: tuple[ServiceProcess, ServiceProcess],
    es384_key: ECKey,
    urgent_prefetch: dict[str, Any],
    database: str,
) -> None:
    for service in instances:
        assert _post(service, es384_key, PATIENT_VIEW, hook_call(urgent_prefetch)).status_code == 200
    store = open_store(database)
    try:
        deadline = time.monotonic() + 10
        while len(store.calls(patient_id="pat-001")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        calls = store.calls(patient_id="pat-001")
    finally:
        store.close()
    assert [(c.issuer, c.user_id, c.rule_ids) for c in calls] == [
        (ISSUER, "Practitioner/prac-1", ("spasm-urgent-red-flag",))
    ] * 2


def _report_when_issued(database: str, cards: int) -> str:
    """`cds feedback report` on the shared database, once the cards (recorded after each response) are in."""
    deadline = time.monotonic() + 10
    while True:
        result = CliRunner().invoke(cli, ["feedback", "report"], env={"CDS_DATABASE_URL": database})
        assert result.exit_code == 0, result.output
        if f"issued: {cards}" in result.output or time.monotonic() > deadline:
            return result.output
        time.sleep(0.1)
