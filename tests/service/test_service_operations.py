"""Running it: readiness, the audit trail of every call, and retention that purges by itself."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from postgres_server import PostgresServer
from service_helpers import FEEDBACK, HOOK_INSTANCE, PATIENT_VIEW, MakeClient, hook_call, wait_until

from cds.store import IssuedCard, open_store


def _store_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'cds.sqlite3'}"


def test_readyz_says_ready_with_the_rules_version_when_the_database_answers(make_client: MakeClient) -> None:
    client = make_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "rulesVersion": client.get("/healthz").json()["rulesVersion"],
        "database": "ok",
    }


def test_readyz_is_a_503_once_the_database_is_gone(make_client: MakeClient, postgres: PostgresServer) -> None:
    url = postgres.new_database()
    client = make_client(database_url=url)
    assert client.get("/readyz").status_code == 200
    postgres.drop_database(url)
    response = client.get("/readyz")
    assert (response.status_code, response.json()["database"]) == (503, "unreachable")


def test_every_hook_call_leaves_one_audit_record(
    make_client: MakeClient, urgent_prefetch: dict[str, Any], tmp_path: Path
) -> None:
    client = make_client()
    client.post(PATIENT_VIEW, json=hook_call(urgent_prefetch))
    client.post(
        PATIENT_VIEW,
        json=hook_call({"patient": urgent_prefetch["patient"], "conditions": None, "observations": None}),
    )
    store = open_store(_store_url(tmp_path / "var"))
    wait_until(lambda: len(store.calls()) == 2)
    calls = store.calls()
    store.close()
    rules_version = client.get("/healthz").json()["rulesVersion"]
    assert [
        (c.issuer, c.user_id, c.patient_id, c.hook_instance, c.service, c.rules_version, c.rule_ids)
        for c in calls
    ] == [
        (
            None,
            "Practitioner/prac-1",
            "pat-001",
            HOOK_INSTANCE,
            "spasm-patient-view",
            rules_version,
            ("spasm-urgent-red-flag",),
        ),
        (None, "Practitioner/prac-1", "pat-001", HOOK_INSTANCE, "spasm-patient-view", rules_version, ()),
    ]


def test_records_past_retention_are_purged_without_being_asked(
    make_client: MakeClient, tmp_path: Path
) -> None:
    url = _store_url(tmp_path / "var")
    store = open_store(url)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    store.record_cards([IssuedCard("old", "rule-a", "1.0.0", "v1", "info", "hook-1", "svc", long_ago)])
    make_client(retention_days=2, purge_interval_seconds=0.05)
    deadline = time.monotonic() + 10
    while store.report() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.report() == []
    store.close()


def test_feedback_while_the_database_is_gone_is_a_503_to_retry(
    make_client: MakeClient, postgres: PostgresServer
) -> None:
    url = postgres.new_database()
    client = make_client(database_url=url)
    postgres.drop_database(url)
    entry = {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z"}
    response = client.post(FEEDBACK, json={"feedback": [entry]})
    assert (response.status_code, response.headers["retry-after"]) == (503, "5")
    assert response.json()["issue"][0]["code"] == "transient"
