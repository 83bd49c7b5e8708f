"""The request bodies: sized as asked, about one patient, accepted by the service, with real work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TODAY

from cds.bench.inprocess import HOOK, SERVICE_ID, BodyHandler
from cds.bench.workload import BenchError, BenchRequest, ChartLibrary, build_request
from cds.evaluation import Evaluator
from cds.service.hooks import parse_hook_request
from cds.service.templates import TEMPLATES


def _bundled(body: bytes) -> list[dict[str, Any]]:
    prefetch = orjson.loads(body)["prefetch"]
    return [
        entry["resource"] for key, value in prefetch.items() if key != "patient" for entry in value["entry"]
    ]


@pytest.mark.parametrize("size", [10, 100])
def test_requests_hold_the_asked_number_of_resources(
    workload: dict[int, list[BenchRequest]], size: int
) -> None:
    for request in workload[size]:
        assert request.resources == size
        assert len(_bundled(request.body)) == size


def test_every_resource_is_about_the_patient_of_the_context(workload: dict[int, list[BenchRequest]]) -> None:
    for request in workload[100]:
        document = orjson.loads(request.body)
        assert document["context"]["patientId"] == request.patient_id
        assert document["prefetch"]["patient"]["id"] == request.patient_id
        subjects = {resource["subject"]["reference"] for resource in _bundled(request.body)}
        assert subjects == {f"Patient/{request.patient_id}"}


def test_resource_ids_are_not_repeated_within_a_request(workload: dict[int, list[BenchRequest]]) -> None:
    for request in workload[100]:
        keys = [(r["resourceType"], r["id"]) for r in _bundled(request.body)]
        assert len(keys) == len(set(keys))


def test_requests_carry_every_prefetch_key_the_service_asks_for(
    workload: dict[int, list[BenchRequest]], evaluator: Evaluator
) -> None:
    prefetch = orjson.loads(workload[10][0].body)["prefetch"]
    assert set(prefetch) == set(TEMPLATES)


def test_requests_are_valid_patient_view_calls(workload: dict[int, list[BenchRequest]]) -> None:
    for request in workload[10]:
        hook_request, context = parse_hook_request(orjson.loads(request.body), SERVICE_ID, HOOK)
        assert hook_request.hook == "patient-view"
        assert context.patientId == request.patient_id


def test_some_requests_give_cards_and_some_do_not(
    workload: dict[int, list[BenchRequest]], evaluator: Evaluator
) -> None:
    handler = BodyHandler(evaluator)
    card_counts = [len(orjson.loads(handler(request.body))["cards"]) for request in workload[10]]
    assert 0 in card_counts
    assert any(card_counts)


def test_variants_differ_in_patient_and_scenario(workload: dict[int, list[BenchRequest]]) -> None:
    assert len({r.patient_id for r in workload[10]}) > 1
    assert len({r.scenario for r in workload[10]}) == len(workload[10])


def _one_chart_folder(folder: Path) -> Path:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1"}},
            *(
                {"resource": {"resourceType": "Observation", "id": f"o{n}", "status": "final"}}
                for n in range(5)
            ),
        ],
    }
    (folder / "p1.json").write_bytes(orjson.dumps(bundle))
    return folder


def test_a_size_beyond_the_data_is_refused_naming_the_folder(tmp_path: Path) -> None:
    library = ChartLibrary(_one_chart_folder(tmp_path))
    with pytest.raises(BenchError, match=str(tmp_path)):
        build_request(library, 50, 0, TODAY)


def test_a_folder_without_bundles_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=f"{tmp_path}: no"):
        ChartLibrary(tmp_path)
