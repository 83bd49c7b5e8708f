"""POST /cds-services/{id}/feedback and the store behind it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from service_helpers import FEEDBACK, PATIENT_VIEW, MakeClient, hook_call
from starlette.testclient import TestClient

from cds.cli.main import cli
from cds.service.feedback import FeedbackEntry, feedback_records
from cds.store import IssuedCard, open_store

OVERRIDE = {
    "reason": {"system": "urn:spasm-cds:override-reason", "code": "known", "display": "Already known"}
}


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """Every test here reads the store, so each gets its own data directory."""
    return make_client()


def _overridden(card: str, **fields: Any) -> dict[str, Any]:
    return {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z", **fields}


def _accepted(card: str, suggestion: str) -> dict[str, Any]:
    return {
        "card": card,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}],
        "outcomeTimestamp": "2026-11-25T09:00:00Z",
    }


def _issued_card(client: TestClient, prefetch: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = client.post(PATIENT_VIEW, json=hook_call(prefetch)).json()["cards"][0]
    return card


def _rows(data_dir: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "cds.sqlite3") as db:
        return db.execute(query).fetchall()


def _report(data_dir: Path) -> str:
    result = CliRunner().invoke(cli, ["feedback", "report", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def test_feedback_is_stored_before_the_200(client: TestClient, tmp_path: Path) -> None:
    response = client.post(FEEDBACK, json={"feedback": [_overridden("card-1", overrideReason=OVERRIDE)]})
    assert (response.status_code, response.content) == (200, b"")
    assert _rows(tmp_path / "var", "SELECT card_uuid, outcome, outcome_timestamp FROM feedback") == [
        ("card-1", "overridden", "2026-11-25T10:00:00+00:00")
    ]


def test_the_same_card_reported_twice_is_two_events(
    client: TestClient, urgent_prefetch: dict[str, Any], tmp_path: Path
) -> None:
    card = _issued_card(client, urgent_prefetch)
    suggestion = card["suggestions"][0]["uuid"]
    assert client.post(FEEDBACK, json={"feedback": [_accepted(card["uuid"], suggestion)]}).status_code == 200
    assert client.post(FEEDBACK, json={"feedback": [_overridden(card["uuid"])]}).status_code == 200
    events = _rows(tmp_path / "var", "SELECT card_uuid, outcome FROM feedback ORDER BY id")
    assert events == [(card["uuid"], "accepted"), (card["uuid"], "overridden")]


def test_accepted_without_accepted_suggestions_is_a_400(client: TestClient) -> None:
    entry = {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-25T10:00:00Z"}
    response = client.post(FEEDBACK, json={"feedback": [entry]})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["feedback[0]"]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (
            {"card": "c", "outcome": "maybe", "outcomeTimestamp": "2026-11-25T10:00:00Z"},
            "feedback[0].outcome",
        ),
        (
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"},
            "feedback[0].outcomeTimestamp",
        ),
        (
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00"},
            "feedback[0].outcomeTimestamp",
        ),
        ({"outcome": "overridden", "outcomeTimestamp": "2026-11-25T10:00:00Z"}, "feedback[0].card"),
    ],
)
def test_an_invalid_entry_is_a_400_naming_its_field(
    client: TestClient, entry: dict[str, Any], field: str
) -> None:
    response = client.post(FEEDBACK, json={"feedback": [entry]})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [field]


def test_an_empty_feedback_list_is_a_400(client: TestClient) -> None:
    assert client.post(FEEDBACK, json={"feedback": []}).status_code == 400


def test_feedback_to_an_unknown_service_is_a_404(client: TestClient) -> None:
    response = client.post("/cds-services/nope/feedback", json={"feedback": [_overridden("c")]})
    assert response.status_code == 404


def test_issued_cards_are_remembered_without_clinical_values(
    client: TestClient, urgent_prefetch: dict[str, Any], tmp_path: Path
) -> None:
    card = _issued_card(client, urgent_prefetch)
    rows = _rows(tmp_path / "var", "SELECT * FROM issued_card")
    assert len(rows) == 1
    uuid, rule_id, rule_version, _, indicator, hook_instance, service, _ = rows[0]
    assert (uuid, rule_id, rule_version, indicator, service) == (
        card["uuid"],
        "spasm-urgent-red-flag",
        "1.0.0",
        "critical",
        "spasm-patient-view",
    )
    assert hook_instance == hook_call()["hookInstance"]


def test_the_report_counts_issued_accepted_overridden_and_reasons_per_rule(
    client: TestClient, urgent_prefetch: dict[str, Any], tmp_path: Path
) -> None:
    first = _issued_card(client, urgent_prefetch)
    second = _issued_card(client, urgent_prefetch)
    feedback = [
        _accepted(first["uuid"], first["suggestions"][0]["uuid"]),
        _overridden(first["uuid"], overrideReason=OVERRIDE),
        _overridden(second["uuid"], overrideReason=OVERRIDE),
    ]
    client.post(FEEDBACK, json={"feedback": feedback})
    report = _report(tmp_path / "var")
    assert "spasm-urgent-red-flag (version 1.0.0)" in report
    assert "issued: 2   accepted: 1   overridden: 2" in report
    assert "2  Already known [urn:spasm-cds:override-reason|known]" in report


def test_a_reason_the_card_offered_sent_back_without_its_display_is_reported_with_it(
    client: TestClient, urgent_prefetch: dict[str, Any], tmp_path: Path
) -> None:
    card = _issued_card(client, urgent_prefetch)
    offered = card["overrideReasons"][0]
    reason = {"reason": {"system": offered["system"], "code": offered["code"]}}
    client.post(FEEDBACK, json={"feedback": [_overridden(card["uuid"], overrideReason=reason)]})
    assert f"1  {offered['display']} [{offered['system']}|{offered['code']}]" in _report(tmp_path / "var")


def test_feedback_about_a_card_never_issued_is_kept_and_reported_apart(
    client: TestClient, tmp_path: Path
) -> None:
    client.post(FEEDBACK, json={"feedback": [_overridden("not-ours")]})
    assert "Cards not issued by this service" in _report(tmp_path / "var")


def test_the_store_keeps_every_field_of_an_entry(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'cds.sqlite3'}")
    store.record_cards(
        [
            IssuedCard(
                "u-1",
                "rule-a",
                "2.0.0",
                "v1",
                "info",
                "hook-1",
                "svc",
                dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
            )
        ]
    )
    comment = {"reason": OVERRIDE["reason"], "userComment": "seen by neurology last week"}
    entry = FeedbackEntry.model_validate(_overridden("u-1", overrideReason=comment))
    store.record_feedback(feedback_records("svc", [entry]))
    store.close()
    query = "SELECT card_uuid, override_code, override_display, override_comment FROM feedback"
    assert _rows(tmp_path, query) == [("u-1", "known", "Already known", "seen by neurology last week")]
