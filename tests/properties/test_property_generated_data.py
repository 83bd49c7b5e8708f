"""The kit's generated data is what it promises: valid FHIR R4, read back whole, following rule edits."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import orjson
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import find, given
from hypothesis import strategies as st

from cds.fhir import read_input
from cds.testing.records import RECORD_FORMS, PatientRecord, RecordForm, encode
from cds.testing.requests import HookCall, hook_calls
from cds.testing.space import RuleSpace, load_space
from cds.testing.strategies import findings, in_other_units, records_at_any_time

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def _validate(resource: dict[str, object]) -> None:
    model = get_fhir_model_class(str(resource["resourceType"]))
    model.model_validate(resource)


@given(records_at_any_time())
def test_every_generated_resource_is_valid_fhir_r4(record: PatientRecord) -> None:
    for resource in record.resources:
        _validate(resource)


@given(st.data())
def test_labs_rewritten_in_another_unit_stay_valid_fhir_r4(space: RuleSpace, data: st.DataObject) -> None:
    record = data.draw(records_at_any_time())
    for resource in data.draw(in_other_units(record, space)).resources:
        _validate(resource)


@given(records_at_any_time(), st.sampled_from(RECORD_FORMS))
def test_every_record_form_reads_back_every_resource_in_order(
    record: PatientRecord, form: RecordForm
) -> None:
    read = read_input(encode(record, form))
    assert [raw.resource for raw in read.resources] == record.resources


@given(hook_calls(records_at_any_time(), broken="none"))
def test_every_prefetch_value_of_a_generated_call_is_valid_fhir_r4(call: HookCall) -> None:
    for value in (call.body.get("prefetch") or {}).values():
        if value is not None:
            _validate(value)


def test_generated_symptoms_follow_a_code_added_to_the_value_set(tmp_path: Path, space: RuleSpace) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(space.directory, rules)
    symptoms = rules / "valuesets" / "symptoms.yaml"
    added = '      - {system: snomed, code: "999000111", display: "Added spasm", status: unconfirmed}\n'
    text = symptoms.read_text()
    anchor = "  muscle_cramp:\n    label: muscle cramp\n    codes:\n"
    assert anchor in text
    symptoms.write_text(text.replace(anchor, anchor + added))
    edited = load_space(rules)
    found = find(
        findings("symptom", now=NOW, patient_id="pat-1", space=edited),
        lambda resource: b"999000111" in orjson.dumps(resource),
    )
    _validate(found)
