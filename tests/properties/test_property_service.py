"""The service: generated calls never get a 5xx, every error is an OperationOutcome, and a 200 carries the
cards the library gives for the same prefetch."""

from __future__ import annotations

import datetime as dt
import warnings
from collections import Counter
from collections.abc import Collection, Iterator
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.cards import to_dict
from cds.evaluation import Evaluator
from cds.fhir import read_prefetch
from cds.rulebook import Rulebook
from cds.service import Settings, create_app
from cds.service.reload import ActiveRules, RulesHolder
from cds.testing.checker import check_cds_response
from cds.testing.compare import comparable_cards
from cds.testing.discovery import Discovery, read_discovery
from cds.testing.requests import HookCall, hook_calls
from cds.testing.strategies import patient_records

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

NOW = dt.datetime.now(dt.UTC)
"""The service evaluates at the time of the call, so records are drawn around the real present."""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, rulebook: Rulebook) -> Iterator[TestClient]:
    settings = Settings(
        auth="off", data_dir=tmp_path_factory.mktemp("var"), public_base_url="http://testserver"
    )
    holder = RulesHolder(rulebook.directory, ActiveRules.build(rulebook))
    with TestClient(create_app(settings, holder=holder), raise_server_exceptions=False) as started:
        yield started


@pytest.fixture(scope="module")
def discovery(client: TestClient) -> Discovery:
    return read_discovery(client.get("/cds-services").content)


def _library_cards(evaluator: Evaluator, call: HookCall, keys: Collection[str], now: dt.datetime) -> Any:
    """The library's cards for what the service was asked to read: the keys it asked for, minus those
    that hold an OperationOutcome (the client's own error, not data)."""
    prefetch = call.body.get("prefetch") or {}
    given = {
        key: value
        for key, value in prefetch.items()
        if key in keys and not (isinstance(value, dict) and value.get("resourceType") == "OperationOutcome")
    }
    patient_id = call.body["context"]["patientId"]
    evaluation = evaluator.evaluate(read_prefetch(given), patient_id=patient_id, now=now)
    return comparable_cards(to_dict(evaluation.response))


def _post(client: TestClient, call: HookCall) -> tuple[int, Any, dt.datetime, dt.datetime]:
    before = dt.datetime.now(dt.UTC)
    response = client.post(
        f"/cds-services/{call.service}", content=call.content, headers={"Content-Type": "application/json"}
    )
    after = dt.datetime.now(dt.UTC)
    return response.status_code, response.json() if response.content else None, before, after


@given(st.data())
def test_generated_calls_never_get_a_server_error(
    client: TestClient, discovery: Discovery, data: st.DataObject
) -> None:
    call = data.draw(hook_calls(patient_records(now=NOW), discovery=discovery))
    status, _, _, _ = _post(client, call)
    assert status < 500, call.broken or call.shapes


@given(st.data())
def test_every_error_body_is_an_operation_outcome(
    client: TestClient, discovery: Discovery, data: st.DataObject
) -> None:
    call = data.draw(hook_calls(patient_records(now=NOW), discovery=discovery))
    status, body, _, _ = _post(client, call)
    if status != 200:
        OperationOutcome.model_validate(body)


@given(st.data())
def test_broken_calls_get_a_client_error(
    client: TestClient, discovery: Discovery, data: st.DataObject
) -> None:
    call = data.draw(hook_calls(patient_records(now=NOW), discovery=discovery, broken="all"))
    status, _, _, _ = _post(client, call)
    assert 400 <= status < 500, call.broken


@given(st.data())
def test_a_call_with_all_its_data_gets_the_library_cards(
    client: TestClient, evaluator: Evaluator, discovery: Discovery, data: st.DataObject
) -> None:
    call = data.draw(hook_calls(patient_records(now=NOW), discovery=discovery, broken="none"))
    status, body, before, after = _post(client, call)
    if call.shapes and all(shape == "data" for shape in call.shapes.values()):
        assert status == 200, body
    if status != 200:
        return
    assert check_cds_response(body) == []
    served = comparable_cards(body)
    keys = call.shapes.keys()
    # the service reads its clock during the call: its cards are the library's at one end of it
    assert served in (_library_cards(evaluator, call, keys, at) for at in (before, after))


REACH_SHARE = 0.8
"""The share of well-formed calls that must reach the rules (a 200), so properties check real answers."""


def test_most_well_formed_calls_reach_the_rules(client: TestClient, discovery: Discovery) -> None:
    statuses: Counter[int] = Counter()

    @settings(max_examples=100, derandomize=True, database=None)
    @given(hook_calls(patient_records(now=NOW), discovery=discovery, broken="none"))
    def send(call: HookCall) -> None:
        statuses[_post(client, call)[0]] += 1

    send()
    share = statuses[200] / sum(statuses.values())
    print(f"well-formed calls answered 200: {share:.0%} of {sum(statuses.values())} ({dict(statuses)})")
    assert share >= REACH_SHARE, statuses
