"""The flat validators: the same instances as fhir_core's own path, the same errors, for any input."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fhir_core.types
import pydantic_core
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import DateTime, FhirBase, Instant
from fhir_core_bodies import RULE_MODELS, anatomy, bodies, real_elements, resources, result, rule_resources
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import SchemaValidator

from cds.fhir import corehooks, flatschema, validation
from cds.fhir.models import Condition, Observation

REPO = Path(__file__).resolve().parents[2]

# fhir_core 1.1.12's element function and dateTime/instant validators, their patterns, and the
# pydantic-core release whose model, chain, union and datetime schemas the flat validators were proven
# on. An upgrade that changes any of them fails here: prove the flat validators again, then update.
PROVEN_SOURCES_SHA256 = "2eb67d7b58fb784ee9b355f9ab56dbff43490f1a2668552c0bb14b4ce08e3ddc"


def _proven_sources() -> str:
    functions = [
        FhirBase.__get_pydantic_core_schema__,
        FhirBase.get_model_klass,
        fhir_core.types.Date.__get_pydantic_core_schema__,
        fhir_core.types.Date._validate,
        DateTime.produce_inner_schema,
        DateTime._validate,
        Instant._validate,
        fhir_core.types.validate_leap_second,
    ]
    patterns = [
        DateTime.pattern,
        Instant.pattern,
        fhir_core.types.FHIR_DATE_PARTS,
        fhir_core.types.FHIR_LEAP_SECOND,
    ]
    texts = [inspect.getsource(function) for function in functions]
    return "\n".join([*texts, *(pattern.pattern for pattern in patterns), pydantic_core.__version__])


def test_fhir_cores_functions_the_flat_validators_replace_are_the_ones_they_were_proven_against() -> None:
    assert hashlib.sha256(_proven_sources().encode()).hexdigest() == PROVEN_SOURCES_SHA256


@given(resources())
def test_a_resource_is_validated_as_model_validate_validates_it_for_any_input(
    case: tuple[type[FHIRAbstractModel], Any],
) -> None:
    model, data = case
    fast = result(lambda: flatschema.validate(model, data), data)
    original = result(lambda: model.model_validate(data), data)
    assert fast == original


FIXTURES = sorted(path for path in (REPO / "fixtures").rglob("*") if path.suffix in {".json", ".ndjson"})


REAL_ELEMENTS = real_elements(FIXTURES)


@functools.cache
def _definition(model: type[FHIRAbstractModel]) -> SchemaValidator:
    """A validator of `model`'s inlined definition alone, as the classes that hold it read it."""
    definitions: dict[type[FHIRAbstractModel], dict[str, Any]] = {}
    assert flatschema._define(model, definitions)
    root = {"type": "definition-ref", "schema_ref": flatschema._ref(model)}
    return SchemaValidator({"type": "definitions", "schema": root, "definitions": list(definitions.values())})


@given(st.one_of(bodies(), REAL_ELEMENTS, REAL_ELEMENTS))
def test_an_element_the_flat_validator_accepts_is_built_as_fhir_cores_own_builds_it(
    case: tuple[type[FHIRAbstractModel], Any],
) -> None:
    """Every element class under the rule models, with any fields, and the fixtures' elements changed a
    little: what the inlined schema accepts, fhir_core's element function accepts too and builds the same."""
    model, data = case
    assume(flatschema.flat_validator(model) is not None)  # primitive extensions: fhir_core's own builds them
    try:
        built = _definition(model).validate_python(data)
    except Exception:
        return  # refused: fhir_core's own path decides, as `validate` does
    original = corehooks._ORIGINALS["fhir_model_validator"].__func__(FhirBase, data, model)
    assert anatomy(built) == anatomy(original)


@given(st.one_of(bodies(), REAL_ELEMENTS, REAL_ELEMENTS))
def test_a_class_the_flat_validator_accepts_as_a_whole_is_built_as_fhir_cores_own_builds_it(
    case: tuple[type[FHIRAbstractModel], Any],
) -> None:
    """The same, for the schema of a class at the top, which ignores keys it does not know and may leave
    the after-validator to `Flat.accepts`: what both accept, given the class's resource type, the
    element function accepts without it and builds the same."""
    model, data = case
    flat = flatschema.flat_validator(model)
    assume(flat is not None and isinstance(data, dict) and "resourceType" not in data)
    typed = {**data, "resourceType": model.get_resource_type()}
    try:
        assert flat.accepts(typed)
        built = flat.core.validate_python(typed)
    except Exception:
        return
    original = corehooks._ORIGINALS["fhir_model_validator"].__func__(FhirBase, data, model)
    assert anatomy(built) == anatomy(original)


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size)


@st.composite
def _times(draw: st.DrawFn) -> str:
    """Text near the dateTime and instant shapes: any digits, leap seconds, zones in and out of range."""
    parts = draw(st.integers(1, 3))
    text = "-".join(draw(_digits(4)) if part == 0 else draw(_digits(2)) for part in range(parts))
    if draw(st.booleans()):
        text += draw(st.sampled_from(["T", "t", " "])) + ":".join(draw(_digits(2)) for _ in range(3))
        if draw(st.booleans()):
            text += "." + draw(st.text("0123456789", min_size=1, max_size=10))
        zone = st.sampled_from(["Z", "", "z", "+14:00", "-00:00"]) | st.builds(
            "{}{}:{}".format, st.sampled_from("+-"), _digits(2), _digits(2)
        )
        text += draw(zone)
    return text + draw(st.sampled_from(["", "", "", "\n", " ", "x"]))


def _field_schema(model: type[FHIRAbstractModel], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = dict(model.__pydantic_core_schema__)
    while schema["type"] != "model-fields":
        schema = schema["schema"]
    schema = schema["fields"][name]["schema"]
    while schema["type"] in {"default", "nullable"}:
        schema = schema["schema"]
    return schema


_TIME_FIELDS = {DateTime: (Observation, "effectiveDateTime"), Instant: (Observation, "issued")}


def _read(validator: SchemaValidator, text: Any) -> tuple[Any, ...]:
    try:
        value = validator.validate_python(text)
    except ValidationError:
        return ("refused",)
    return (type(value), value.isoformat() if hasattr(value, "isoformat") else value)


@given(
    st.sampled_from(sorted(_TIME_FIELDS, key=str)),
    _times() | st.text(max_size=30) | st.from_regex(DateTime.pattern, fullmatch=True) | st.integers(),
)
def test_a_date_time_or_instant_is_read_as_fhir_cores_own_validator_reads_it_for_any_text(
    kind: type, text: Any
) -> None:
    original = _field_schema(*_TIME_FIELDS[kind])
    fast = flatschema._time(original)
    assert fast is not None
    assert _read(SchemaValidator(fast), text) == _read(SchemaValidator(original), text)  # type: ignore[arg-type]


def test_a_leap_second_is_kept_as_text_as_fhir_core_keeps_it() -> None:
    body = {"resourceType": "Observation", "status": "final", "code": {"text": "potassium"}}
    leap = flatschema.validate(Observation, body | {"effectiveDateTime": "2016-12-31T23:59:60Z"})
    day = flatschema.validate(Observation, body | {"effectiveDateTime": "2016-12-31"})
    assert (leap.effectiveDateTime, type(day.effectiveDateTime).__name__) == ("2016-12-31T23:59:60Z", "date")


def test_a_null_in_a_list_of_codings_is_refused_with_fhir_cores_error() -> None:
    body = {"resourceType": "Condition", "subject": {"reference": "Patient/p"}, "code": {"coding": [None]}}
    with pytest.raises(ValidationError) as refused:
        flatschema.validate(Condition, body)
    assert [(e["type"], e["loc"], e["msg"]) for e in refused.value.errors()] == [
        ("list_type", ("code", "coding"), "None is not allowed as an element of coding")
    ]


def _element_functions(schema: Any) -> Iterator[str]:
    """The element types whose fhir_core function a schema still calls, wherever it is."""
    if isinstance(schema, dict):
        source = flatschema._element_type(schema) if "function" in schema and "schema" in schema else None
        if source is not None:
            yield source.get_model_klass().__name__
        for value in schema.values():
            yield from _element_functions(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _element_functions(value)


def test_every_element_of_a_rule_model_is_built_by_pydantic_core_itself() -> None:
    """Only contained resources and primitive extensions (`_status`) still go through fhir_core."""
    for model in RULE_MODELS:
        definitions: dict[type[FHIRAbstractModel], dict[str, Any]] = {}
        assert flatschema.flat_validator(model) is not None
        assert flatschema._define(model, definitions)
        assert set(_element_functions(list(definitions.values()))) == {"Resource", "FHIRPrimitiveExtension"}
        assert len(definitions) > 30


def test_validate_resource_validates_with_the_flat_validators() -> None:
    assert validation.validate is flatschema.validate


def test_a_model_class_of_our_own_is_validated_by_fhir_cores_own_path() -> None:
    class Lenient(Observation):
        def get_one_of_many_fields(self) -> dict[str, list[str]]:
            return {} if self.id == "lenient" else super().get_one_of_many_fields()

    two = {"resourceType": "Observation", "status": "final", "code": {"text": "k"}, "valueString": "low"}
    two |= {"valueBoolean": True}
    assert flatschema.flat_validator(Lenient) is None
    assert flatschema.validate(Lenient, two | {"id": "lenient"}).valueString == "low"
    with pytest.raises(ValidationError):
        flatschema.validate(Lenient, two | {"id": "strict"})


def _outcome(validate: Any, resource: dict[str, Any]) -> tuple[Any, ...]:
    try:
        built = validate(get_fhir_model_class(resource["resourceType"]), resource)
    except ValidationError as error:
        return ("refused", error.title, error.errors(include_url=False))
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        return (type(error).__name__, str(error))
    return ("built", anatomy(built))


_DATA_SUFFIXES = (".json", ".json.gz", ".ndjson")


def test_every_rule_resource_of_the_fixtures_and_the_shared_data_is_built_as_fhir_cores_path_builds_it(
    shared_data: Path,
) -> None:
    """Every resource of a type the rules read, against `corehooks.validate`, which the corehooks tests
    hold to fhir_core's own validators."""
    paths = [
        *FIXTURES,
        *sorted(path for path in shared_data.rglob("*") if path.name.endswith(_DATA_SUFFIXES)),
    ]
    found = rule_resources(paths)
    different = [
        f"{resource['resourceType']}/{resource.get('id')}"
        for resource in found
        if _outcome(flatschema.validate, resource) != _outcome(corehooks.validate, resource)
    ]
    assert len(found) > 17_000
    assert different == []


def test_the_rule_types_are_validated_by_one_validator() -> None:
    cores = {id(flat.core) for model in RULE_MODELS if (flat := flatschema.flat_validator(model))}
    assert len(cores) == 1


_POTASSIUM = {"resourceType": "Observation", "status": "final", "code": {"text": "potassium"}}


def _errors(resource: dict[str, Any]) -> list[tuple[str, tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as refused:
        flatschema.validate(Observation, resource)
    return [(e["type"], e["loc"], e["msg"]) for e in refused.value.errors()]


def test_an_unknown_element_of_a_resource_is_refused_with_fhir_cores_error() -> None:
    assert _errors(_POTASSIUM | {"context": {"reference": "Encounter/e"}}) == [
        ("extra_forbidden", ("context",), "Extra inputs are not permitted")
    ]


def test_two_values_of_one_choice_are_refused_with_fhir_cores_error() -> None:
    [(kind, _, message)] = _errors(_POTASSIUM | {"valueString": "low", "valueBoolean": True})
    assert (kind, "but got multiple" in message) == ("value_error", True)


def test_a_required_primitive_given_only_as_an_extension_is_accepted_as_fhir_core_accepts_it() -> None:
    absent = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
    reason = {"extension": [absent]}
    body = {key: value for key, value in _POTASSIUM.items() if key != "status"} | {"_status": reason}
    built = flatschema.validate(Observation, body)
    assert (built.status, type(built.status__ext).__name__) == (None, "FHIRPrimitiveExtension")
    assert anatomy(built) == anatomy(corehooks.validate(Observation, body))


def test_a_field_given_by_its_alias_and_its_python_name_is_left_to_fhir_cores_own_path() -> None:
    """fhir_core refuses the Python name beside the alias as an unknown element; the flat validator,
    whose fields ignore keys, would take the alias's value and build the resource."""
    flat = flatschema.flat_validator(Condition)
    assert flat is not None
    data = {"resourceType": "Condition", "_recordedDate": None, "recordedDate__ext": None}
    assert not flat.accepts(data)
    with pytest.raises(ValidationError, match="recordedDate__ext"):
        Condition.model_validate(data)
