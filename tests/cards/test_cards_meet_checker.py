"""Models and independent checker agree: what the models write passes; what they refuse, it reports."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cds.cards import Action, Card, CdsResponse, Coding, Link, OverrideReason, Source, Suggestion, to_json
from cds.testing.checker import check_cds_response

text = st.text(min_size=1, max_size=30).filter(str.strip)
urls = st.sampled_from(["https://spasm-cds.example.org/rules", "http://localhost:8080/icon.png"])
codings = st.builds(Coding, system=text, code=text, display=st.none() | text)
fhir_text = st.text(st.characters(codec="ascii", categories=("L", "N", "P")), min_size=1, max_size=30)
patients = st.fixed_dictionaries({"reference": st.just("Patient/p-1")})
resources = st.one_of(
    st.fixed_dictionaries(
        {
            "resourceType": st.just("ServiceRequest"),
            "status": st.just("draft"),
            "intent": st.just("proposal"),
            "subject": patients,
        },
        optional={"code": st.fixed_dictionaries({"text": fhir_text})},
    ),
    st.fixed_dictionaries(
        {
            "resourceType": st.just("MedicationRequest"),
            "status": st.sampled_from(["draft", "active"]),
            "intent": st.just("proposal"),
            "subject": patients,
            "medicationCodeableConcept": st.fixed_dictionaries({"text": fhir_text}),
        },
        optional={"priority": st.sampled_from(["routine", "urgent"])},
    ),
)
"""Valid FHIR R4 resources: the checker validates what an action carries."""
actions = st.one_of(
    st.builds(Action, type=st.sampled_from(["create", "update"]), description=text, resource=resources),
    st.builds(Action, type=st.just("delete"), description=text, resourceId=st.just("ServiceRequest/a-1")),
)
links = st.one_of(
    st.builds(Link, label=text, url=urls, type=st.just("absolute"), autolaunchable=st.none() | st.booleans()),
    st.builds(Link, label=text, url=urls, type=st.just("smart"), appContext=st.none() | text),
)


@st.composite
def responses(draw: st.DrawFn) -> CdsResponse:
    next_uuid = iter(str(UUID(int=n)) for n in range(draw(st.integers(0, 2**100)), 2**128))
    cards = []
    for _ in range(draw(st.integers(0, 3))):
        suggestions = [
            Suggestion(
                label=draw(text),
                uuid=next(next_uuid),
                isRecommended=draw(st.none() | st.booleans()),
                actions=draw(st.none() | st.lists(actions, min_size=1, max_size=2)),
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        recommended = sum(1 for s in suggestions if s.isRecommended)
        behaviors = ["any"] if recommended > 1 else ["any", "at-most-one"]
        cards.append(
            Card(
                uuid=next(next_uuid),
                summary=draw(st.text(min_size=1, max_size=139).filter(str.strip)),
                indicator=draw(st.sampled_from(["info", "warning", "critical"])),
                source=draw(st.builds(Source, label=text, url=st.none() | urls, topic=st.none() | codings)),
                detail=draw(st.none() | text),
                suggestions=suggestions or None,
                selectionBehavior=draw(st.sampled_from(behaviors)) if suggestions else None,
                overrideReasons=draw(
                    st.none()
                    | st.lists(st.builds(OverrideReason, system=text, code=text, display=text), min_size=1)
                ),
                links=draw(st.none() | st.lists(links, min_size=1, max_size=2)),
            )
        )
    return CdsResponse(cards=cards, systemActions=draw(st.none() | st.lists(actions, min_size=1, max_size=2)))


@settings(max_examples=150, deadline=None)
@given(responses())
def test_every_response_the_models_write_passes_the_checker(response: CdsResponse) -> None:
    assert check_cds_response(to_json(response)) == []


def emptied_copies(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """For every nested string, array and object: its checker path and a copy of `value` with it emptied."""
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        child_path = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
        if isinstance(child, str | list | dict):
            yield child_path, _replaced(value, key, type(child)())
        for inner_path, emptied_child in emptied_copies(child, child_path):
            yield inner_path, _replaced(value, key, emptied_child)


def _replaced(container: Any, key: Any, new: Any) -> Any:
    if isinstance(container, dict):
        return {**container, key: new}
    return [new if i == key else item for i, item in enumerate(container)]


def test_emptying_any_value_is_refused_by_the_models_and_reported_by_the_checker(
    response_json: dict[str, Any],
) -> None:
    missed = []
    for path, emptied in emptied_copies(response_json):
        if path == "cards":
            continue
        reported = any(v.startswith(f"{path}: empty") for v in check_cds_response(emptied))
        try:
            CdsResponse.model_validate(emptied)
            refused = False
        except ValidationError:
            refused = True
        if not (reported and refused):
            missed.append(f"{path} (reported={reported}, refused={refused})")
    assert missed == []


def test_null_optional_field_is_read_as_absent_and_never_written(response_json: dict[str, Any]) -> None:
    response_json["cards"][0]["detail"] = None
    written = to_json(CdsResponse.model_validate(response_json))
    assert b"null" not in written
    assert check_cds_response(written) == []
