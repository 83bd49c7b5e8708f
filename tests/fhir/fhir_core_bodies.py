"""Inputs for fhir_core's validators and what a validator made of one, for the tests that hold the fast
validators (`cds.fhir.corehooks`, `cds.fhir.flatschema`) to fhir_core's own."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fhir_core.utils
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from fhir_core_outcomes import resources_in
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from cds.fhir.models import Condition, MedicationRequest, MedicationStatement, Observation

RULE_MODELS = (Condition, Observation, MedicationRequest, MedicationStatement)


def element_classes(roots: tuple[type[FHIRAbstractModel], ...]) -> list[type[FHIRAbstractModel]]:
    """The resources and every element type they can hold, as far down as they go."""
    seen: dict[type[FHIRAbstractModel], None] = {}
    pending = list(roots)
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen[model] = None
        for field in model.model_fields.values():
            pending.extend(kind.get_model_klass() for kind in _kinds(field.annotation))
    return sorted(seen, key=lambda model: f"{model.__module__}.{model.__qualname__}")


def _kinds(annotation: Any) -> Iterator[type[FhirBase]]:
    if isinstance(annotation, type) and issubclass(annotation, FhirBase):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _kinds(argument)


CLASSES = element_classes(RULE_MODELS)


def result(call: Callable[[], Any], given_value: Any, *, include_input: bool = True) -> tuple[Any, ...]:
    """What a validator did: returned its argument (or else what, if a model), or raised which error."""
    try:
        returned = call()
    except ValidationError as error:
        details = error.errors(include_url=False, include_input=include_input)
        return ("ValidationError", error.title, [_comparable(detail) for detail in details])
    except (ValueError, AssertionError, AttributeError, KeyError, TypeError) as error:
        return (type(error).__name__, str(error))
    if isinstance(returned, FHIRAbstractModel) and returned is not given_value:
        return ("built", anatomy(returned))
    return ("returned", returned is given_value)


def anatomy(value: Any) -> Any:
    """Everything that makes two results the same: the class, fields set, extras and private state of
    every model down the tree, and the type and value of every leaf that is not None (a date is not a
    datetime)."""
    if isinstance(value, BaseModel):
        fields = {name: anatomy(item) for name, item in vars(value).items() if item is not None}
        state = (value.__pydantic_fields_set__, value.__pydantic_extra__, value.__pydantic_private__)
        return (type(value), state, fields)
    if isinstance(value, list):
        return [anatomy(item) for item in value]
    return (type(value), value)


def _comparable(detail: Any) -> dict[str, Any]:
    """An error's details with the exception in its context as text: each call raises its own."""
    context = {
        key: repr(value) if isinstance(value, Exception) else value
        for key, value in detail.get("ctx", {}).items()
    }
    return {**detail, "ctx": context}


ABSENT = "absent"
SCALARS = st.one_of(st.none(), st.text(max_size=2), st.integers(-2, 2), st.booleans())
ELEMENTS = st.dictionaries(st.sampled_from(["code", "url", "extension", "id"]), SCALARS, max_size=2)
_VALUES = st.one_of(
    SCALARS,
    ELEMENTS,
    st.lists(st.one_of(st.none(), ELEMENTS, st.text(max_size=2), st.integers(0, 2)), max_size=3),
)


class _Mapping(dict[str, Any]):
    """A dict subclass: fhir_core's check accepts any dict, so the fast one must hand these over."""


@st.composite
def bodies(draw: st.DrawFn) -> tuple[type[FHIRAbstractModel], Any]:
    model = draw(st.sampled_from(CLASSES))
    keys = sorted({*model.model_fields, *(f.alias for f in model.model_fields.values() if f.alias)})
    body = draw(
        st.dictionaries(st.sampled_from([*keys, "resourceType", "class", "unknown"]), _VALUES, max_size=6)
    )
    lists = [key for key, field in model.model_fields.items() if fhir_core.utils.is_list_type(field)]
    if lists and draw(st.booleans()):  # a list of elements, often with a null: what the check looks for
        body[draw(st.sampled_from(lists))] = draw(
            st.lists(st.one_of(st.none(), ELEMENTS), min_size=1, max_size=3)
        )
    return model, _shaped(draw, body)


_ODD_KEYS = st.sampled_from([1, None, ("code",), b"code"])
"""Keys JSON never has: calling a class with them as keywords refuses them, and so must the fast build."""


def _shaped(draw: st.DrawFn, body: dict[Any, Any]) -> Any:
    if draw(st.integers(0, 15)) == 1:
        body = {**body, draw(_ODD_KEYS): draw(SCALARS)}
    shape = draw(st.sampled_from(["dict", "dict", "dict", "subclass", "list", "text"]))
    return {"dict": body, "subclass": _Mapping(body), "list": list(body.values()), "text": str(body)}[shape]


_OWN = object()
_CODE = {"coding": [{"system": "http://loinc.org", "code": "2823-3"}], "text": "potassium"}
_MEDICATION = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5487"}]}
_PATIENT = {"reference": "Patient/p"}
_VALID: dict[type[FHIRAbstractModel], dict[str, Any]] = {
    Condition: {"subject": _PATIENT, "code": _CODE, "onsetDateTime": "2026-11-01"},
    Observation: {"status": "final", "code": _CODE, "subject": _PATIENT, "valueQuantity": {"value": 3.1}},
    MedicationRequest: {
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": _MEDICATION,
        "subject": _PATIENT,
    },
    MedicationStatement: {"status": "active", "medicationCodeableConcept": _MEDICATION, "subject": _PATIENT},
}
"""A valid body per rule model, which the generated keys then change or leave as it is."""

_RESOURCE_TYPES = st.sampled_from(
    [_OWN, _OWN, _OWN, *(model.get_resource_type() for model in RULE_MODELS), None, "", 1, ABSENT]
)


@st.composite
def resources(draw: st.DrawFn) -> tuple[type[FHIRAbstractModel], Any]:
    """A resource body for a rule's model: its own type, another, none, a `resource_type` key too."""
    model = draw(st.sampled_from(RULE_MODELS))
    keys = sorted({*model.model_fields, *(f.alias for f in model.model_fields.values() if f.alias)})
    body: dict[Any, Any] = dict(_VALID[model]) if draw(st.booleans()) else {}
    body |= draw(st.dictionaries(st.sampled_from([*keys, "unknown"]), _VALUES, max_size=2 if body else 4))
    for key in ("resourceType", "resource_type") if draw(st.integers(0, 3)) == 0 else ("resourceType",):
        kind = draw(_RESOURCE_TYPES)
        if kind == ABSENT:
            body.pop(key, None)
        else:
            body[key] = model.get_resource_type() if kind is _OWN else kind
    return model, _shaped(draw, body)


Case = tuple[type[FHIRAbstractModel], Any]


def _elements_in(model: type[FHIRAbstractModel], body: dict[str, Any]) -> Iterator[Case]:
    """Every element in a resource body with the class its field builds it as, as far down as it goes."""
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    for key, value in body.items():
        field = fields.get(key)
        kinds = list(_kinds(field.annotation)) if field else []
        if len(kinds) != 1 or kinds[0].get_model_klass().__name__ == "Resource":
            continue
        element = kinds[0].get_model_klass()
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                yield element, item
                yield from _elements_in(element, item)


def rule_resources(paths: list[Path]) -> list[dict[str, Any]]:
    """The resources in `paths` of a type the rules read."""
    rule_types = {model.get_resource_type() for model in RULE_MODELS}
    return [
        resource
        for path in paths
        for resource in resources_in(path)
        if resource["resourceType"] in rule_types
    ]


def real_elements(paths: list[Path]) -> st.SearchStrategy[Case]:
    """Elements of the rule models' resources in `paths` (real FHIR), some with a value changed,
    added or taken out, or handed over as a dict subclass."""
    found = [
        pair
        for resource in rule_resources(paths)
        for pair in _elements_in(get_fhir_model_class(resource["resourceType"]), resource)
    ]
    unique = list({repr(pair): pair for pair in found}.values())

    @st.composite
    def changed(draw: st.DrawFn) -> Case:
        model, element = draw(st.sampled_from(unique))
        body = dict(element)
        change = draw(st.sampled_from(["none", "none", "set", "drop", "subclass"]))
        if change == "set":
            body[draw(st.sampled_from(sorted({*body, "id", "extension", "unknown"})))] = draw(_VALUES)
        elif change == "drop" and body:
            del body[draw(st.sampled_from(sorted(body)))]
        return model, _Mapping(body) if change == "subclass" else body

    return changed()
