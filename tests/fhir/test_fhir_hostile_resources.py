"""The reader only guarantees a textual resourceType; everything downstream must cope with the rest."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cds.fhir import PatientMatcher, RawResource, latest_versions, patient_ids

keys = st.sampled_from(["id", "meta", "versionId", "lastUpdated", "subject", "patient", "reference", "x"])
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["1", "2", "Patient/1", "urn:uuid:1", "2024-01-01T00:00:00Z", "2024-01-01"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=10,
)
resources = st.lists(
    st.tuples(
        st.sampled_from(["Patient", "Observation"]),
        st.dictionaries(keys, values, max_size=4),
        st.none() | st.sampled_from(["urn:uuid:1", "Patient/1"]),
    ).map(lambda t: RawResource(t[1] | {"resourceType": t[0]}, t[2], "test")),
    max_size=6,
)


@settings(max_examples=100, deadline=None)
@given(resources)
def test_latest_versions_keeps_or_reports_every_resource(raws: list[RawResource]) -> None:
    kept, notes = latest_versions(raws)
    assert len(kept) + len(notes) == len(raws)


@settings(max_examples=100, deadline=None)
@given(resources)
def test_patient_matching_never_raises_for_any_resource_shape(raws: list[RawResource]) -> None:
    matcher = PatientMatcher.for_patient("1", raws)
    decisions: list[Any] = [matcher.is_about_patient(raw) for raw in raws]
    assert all(isinstance(decision, bool) for decision in decisions)


@settings(max_examples=100, deadline=None)
@given(resources)
def test_patient_ids_come_only_from_patient_resources(raws: list[RawResource]) -> None:
    assert set(patient_ids(raws)) == {raw.id for raw in raws if raw.resource_type == "Patient"} - {None}
