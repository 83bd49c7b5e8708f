"""`cds feedback report` as an informaticist reads it after a rule change: one group per rules version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from postgres_server import PostgresServer

from cds.cards.render import OVERRIDE_SYSTEM
from cds.cli.main import cli
from cds.rulebook import Rulebook
from cds.store import FeedbackRecord, IssuedCard, open_store

BEFORE = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
AFTER = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
OLD_RULES = "0123456789ab"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cds.sqlite3'}"
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return postgres.new_database()


@pytest.fixture
def threshold_change(database: str, rulebook: Rulebook) -> Iterator[str]:
    """The same rule and rule version issued under the old rules, then under today's (a threshold change).

    Two overrides under the old rules, one acceptance under the new; every reason sent as code and
    system only, as an EHR that does not echo displays sends them.
    """
    store = open_store(database)
    try:
        store.record_cards(
            [
                _card("old-1", OLD_RULES, BEFORE),
                _card("old-2", OLD_RULES, BEFORE + dt.timedelta(hours=3)),
                _card("new-1", rulebook.version, AFTER),
            ]
        )
        store.record_feedback(
            [
                _overridden("old-1", "cause_known"),
                _overridden("old-2", "cause_known"),
                _accepted("new-1"),
            ]
        )
    finally:
        store.close()
    yield database


def _card(uuid: str, rules_version: str, at: dt.datetime) -> IssuedCard:
    return IssuedCard(
        uuid, "spasm-benign-contributors", "1.0.0", rules_version, "info", "h-1", "spasm-patient-view", at
    )


def _feedback(uuid: str, outcome: str, **fields: Any) -> FeedbackRecord:
    moment = AFTER + dt.timedelta(hours=1)
    values: dict[str, Any] = {
        "accepted_suggestions": None,
        "override_system": None,
        "override_code": None,
        "override_display": None,
        "override_comment": None,
        **fields,
    }
    return FeedbackRecord(
        uuid, "spasm-patient-view", outcome, outcome_timestamp=moment, received_at=moment, **values
    )


def _overridden(uuid: str, code: str) -> FeedbackRecord:
    return _feedback(uuid, "overridden", override_system=OVERRIDE_SYSTEM, override_code=code)


def _accepted(uuid: str) -> FeedbackRecord:
    return _feedback(uuid, "accepted", accepted_suggestions=("s-1",))


def _report(database: str, *options: str) -> str:
    result = CliRunner().invoke(cli, ["feedback", "report", *options], env={"CDS_DATABASE_URL": database})
    assert result.exit_code == 0, result.output
    return result.output


def test_each_rules_version_is_a_group_of_its_own_oldest_first(
    threshold_change: str, rulebook: Rulebook
) -> None:
    report = _report(threshold_change)
    old, new = report.split("\n\n")
    assert old.splitlines()[:3] == [
        f"Rules version {OLD_RULES}, cards issued 2026-11-20 09:00 UTC to 2026-11-20 12:00 UTC",
        "  spasm-benign-contributors (version 1.0.0)",
        "    issued: 2   accepted: 0   overridden: 2",
    ]
    assert new.splitlines() == [
        f"Rules version {rulebook.version} (the rules now), cards issued 2026-11-25 09:00 UTC",
        "  spasm-benign-contributors (version 1.0.0)",
        "    issued: 1   accepted: 1   overridden: 0",
    ]


def test_a_reason_sent_as_code_and_system_only_is_shown_with_the_rules_display(threshold_change: str) -> None:
    shown = f"2  Cause already known and being managed [{OVERRIDE_SYSTEM}|cause_known]"
    assert shown in _report(threshold_change)


def test_json_gives_one_object_per_rules_version_and_rule_version(
    threshold_change: str, rulebook: Rulebook
) -> None:
    objects = [orjson.loads(line) for line in _report(threshold_change, "--json").splitlines()]
    assert [(o["rules_version"], o["rule_id"], o["rule_version"], o["issued"]) for o in objects] == [
        (OLD_RULES, "spasm-benign-contributors", "1.0.0", 2),
        (rulebook.version, "spasm-benign-contributors", "1.0.0", 1),
    ]
    assert objects[0]["override_reasons"] == [
        {
            "system": OVERRIDE_SYSTEM,
            "code": "cause_known",
            "display": "Cause already known and being managed",
            "count": 2,
        }
    ]
    assert objects[0]["first_issued"] == "2026-11-20T09:00:00+00:00"


def test_a_code_the_rules_do_not_offer_is_shown_as_its_code(database: str) -> None:
    store = open_store(database)
    try:
        store.record_cards([_card("c-1", OLD_RULES, BEFORE)])
        store.record_feedback([_overridden("c-1", "retired_reason")])
    finally:
        store.close()
    assert f"1  retired_reason [{OVERRIDE_SYSTEM}|retired_reason]" in _report(database)
