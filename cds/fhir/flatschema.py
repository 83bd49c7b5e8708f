"""One pydantic-core validator per resource class that builds the resource's elements itself.

In a generated class every element field (a coding, a reference, a period) is a function schema:
fhir_core's `_validate` calls `fhir_model_validator`, which builds the element with a validation of
its own and hands it back, so each element of a resource goes out to Python and in again (about
eight times a Condition), and every dateTime and instant goes through fhir_core's Python checks. The
validator built here from the class's own core schema has each such function replaced by the element
class's own model schema behind a dict check, so pydantic-core builds the same classes from the same
field schemas in one pass; and a dateTime or instant in the shapes fhir_core only hands on to
pydantic is parsed by that same pydantic schema first. It leaves out two per-element Python calls
only where they cannot object: the null check when every list it looks at refuses a null by itself,
and the after-validator when the class has no required primitive and no choice.

It accepts less than the original, never more: anything but a dict where an element goes (text, a
model, another mapping, a null), a `resourceType` key in an element, or a class not as expected
keeps fhir_core's function or fails here; then `corehooks.validate` validates the resource whole and
its answer, accepted or refused with its own errors, is the answer. So what is accepted is built
exactly as before, and every error comes from fhir_core. Only the validators are kept, per class.
"""

from __future__ import annotations

import functools
from types import CodeType
from typing import Any, Final, TypeVar

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import DateTime, FhirBase, Instant
from pydantic_core import SchemaValidator

from cds.fhir import corehooks

T = TypeVar("T", bound=FHIRAbstractModel)

Schema = dict[str, Any]
_Definitions = dict[type[FHIRAbstractModel], Schema]

_ELEMENT_FUNCTION: Final[CodeType] = next(
    constant
    for constant in vars(FhirBase)["__get_pydantic_core_schema__"].__func__.__code__.co_consts
    if isinstance(constant, CodeType) and constant.co_name == "_validate"
)
"""The code of the function fhir_core's element schemas call (`FhirBase.__get_pydantic_core_schema__`)."""

_A_DICT: Final[Schema] = {"type": "is-instance", "cls": dict}
"""Refuses what fhir_core's element function would not build from a dict of fields with `_build`."""

_TIME_SCHEMA: Final[Schema] = {"type": "datetime", "microseconds_precision": "truncate"}
_TO_THE_SECOND: Final = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9]"
_A_DAY: Final = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_PARSED: Final[dict[type, tuple[tuple[str, Schema], ...]]] = {
    DateTime: ((_TO_THE_SECOND, _TIME_SCHEMA), (_A_DAY, {"type": "date"})),
    Instant: ((_TO_THE_SECOND, _TIME_SCHEMA),),
}
"""Text that fhir_core's DateTime and Instant validators, once their own pattern holds, hand to pydantic
unchanged, and what they return for it: a time to the second (below 60, so no leap second; both
patterns then require a time zone) is pydantic's datetime; a DateTime that is a day is that datetime's
date, which is pydantic's date of the same text."""


def validate(model: type[T], data: Any) -> T:
    """`corehooks.validate(model, data)`: the same instance, or the same errors when it refuses."""
    if type(data) is dict and type(data.get("resourceType")) is str and "resource_type" not in data:
        flat = flat_validator(model)
        if flat is not None and data["resourceType"] == model.__resource_type__:
            fields = dict(data)
            del fields["resourceType"]
            try:
                built: T = flat.validate_python(fields)
            except Exception:  # whatever it refuses or raises, fhir_core's own path decides below
                pass
            else:
                return built
    return corehooks.validate(model, data)


@functools.cache
def flat_validator(model: type[FHIRAbstractModel]) -> SchemaValidator | None:
    """The validator for `model` with its elements inlined, or None when the class is not as expected."""
    definitions: _Definitions = {}
    if not corehooks.INSTALLED or not corehooks._built_by_init(model) or not _define(model, definitions):
        return None
    return SchemaValidator(
        {
            "type": "definitions",
            "schema": {"type": "definition-ref", "schema_ref": _ref(model)},
            "definitions": list(definitions.values()),
        }
    )


def _ref(model: type[FHIRAbstractModel]) -> str:
    return f"flat:{model.__module__}.{model.__qualname__}"


def _define(model: type[FHIRAbstractModel], definitions: _Definitions) -> bool:
    """Put the inlined schema of `model` (and of every element class under it) in `definitions`."""
    if model in definitions:
        return True
    after: Schema = dict(model.__pydantic_core_schema__)
    if not _calls(after, "function-after", corehooks.validate_after_model_construction):
        return False
    outer = after["schema"]
    before = outer["schema"]
    if not _calls(before, "function-before", corehooks.reject_null_complex_elements):
        return False
    if before["function"]["function"].__self__ is not model or before["schema"]["type"] != "model-fields":
        return False
    checked, null_checked = corehooks._complex_list_keys(model)
    definitions[model] = {"ref": _ref(model)}  # claimed before the fields: classes hold themselves
    fields = {
        name: {**field, "schema": _inlined(field["schema"], definitions, guard=name in null_checked)}
        for name, field in before["schema"]["fields"].items()
    }
    flat_fields = {**before["schema"], "fields": fields}
    nulls_refused = checked is model.__pydantic_fields__ and all(
        _holds_dicts_only(fields.get(key)) for key in null_checked
    )
    flat_model = {
        **outer,
        "custom_init": False,
        "schema": flat_fields if nulls_refused else {**before, "schema": flat_fields},
    }
    facts = corehooks._after_facts(model)
    if facts is not None and not facts.required and not facts.choices:
        definitions[model] = {**flat_model, "ref": _ref(model)}
    else:
        definitions[model] = {
            "type": "function-after",
            "function": after["function"],
            "schema": flat_model,
            "ref": _ref(model),
        }
    return True


def _calls(schema: Schema, kind: str, function: Any) -> bool:
    """Whether `schema` is a model validator of `kind` that calls `function` (bound or not) and no other."""
    if schema.get("type") != kind or schema["function"].get("type") != "no-info":
        return False
    called = schema["function"]["function"]
    return getattr(called, "__func__", called) is function


def _inlined(schema: Schema, definitions: _Definitions, *, guard: bool) -> Schema:
    """A field's schema with its element function (alone, or behind a default, a null or a list) inlined.

    With `guard`, items of a list must be dicts, which refuses a null the null check would look for.
    """
    kind = schema["type"]
    if kind in {"default", "nullable"}:
        return {**schema, "schema": _inlined(schema["schema"], definitions, guard=guard)}
    if kind == "list" and "items_schema" in schema:
        items = schema["items_schema"]
        inlined = _element(items, definitions)
        if inlined is None and guard and _element_type(items) is not None:
            inlined = {"type": "chain", "steps": [_A_DICT, items]}
        return {**schema, "items_schema": inlined or _time(items) or items}
    return _element(schema, definitions) or _time(schema) or schema


def _element(schema: Schema, definitions: _Definitions) -> Schema | None:
    """The element class's own schema behind the dict check, for fhir_core's function that builds it."""
    source = _element_type(schema)
    if source is None:
        return None
    hook = getattr(source.fhir_model_validator, "__func__", None)
    element = source.get_model_klass()
    if hook is not corehooks.fhir_model_validator or not corehooks._built_by_init(element):
        return None
    if not _define(element, definitions):
        return None
    return {"type": "chain", "steps": [_A_DICT, {"type": "definition-ref", "schema_ref": _ref(element)}]}


def _element_type(schema: Schema) -> type[FhirBase] | None:
    """The element type whose fhir_core function this schema is, with nothing else around it."""
    if schema["type"] != "function-wrap" or schema["schema"] != {"type": "any"}:
        return None
    if schema["function"]["type"] != "with-info":
        return None
    function = schema["function"]["function"]
    if getattr(function, "__code__", None) is not _ELEMENT_FUNCTION:
        return None
    cells = (cell.cell_contents for cell in function.__closure__)
    free = dict(zip(_ELEMENT_FUNCTION.co_freevars, cells, strict=True))
    source: type[FhirBase] = free["source_type"]
    return source if free["cls"] is source else None


def _time(schema: Schema) -> Schema | None:
    """fhir_core's DateTime or Instant function, with the text it only hands on to pydantic parsed first.

    The choices are tried in order; text of another shape, or that pydantic refuses, goes to the
    function itself as before.
    """
    if schema["type"] != "function-wrap" or schema["function"]["type"] != "with-info":
        return None
    function = schema["function"]["function"]
    kind = getattr(function, "__self__", None)
    if kind not in _PARSED or getattr(function, "__func__", None) is not vars(kind)["_validate"].__func__:
        return None
    if schema["schema"] != _TIME_SCHEMA:
        return None
    own = {"type": "str", "strict": True, "pattern": f"^(?:{kind.pattern.pattern})$"}
    parsed = [
        {"type": "chain", "steps": [own, {"type": "str", "strict": True, "pattern": shape}, result]}
        for shape, result in _PARSED[kind]
    ]
    return {"type": "union", "mode": "left_to_right", "choices": [*parsed, schema]}


def _holds_dicts_only(field: Schema | None) -> bool:
    """Whether a field is a list whose items must be dicts, so a null in it is refused."""
    if field is None:
        return False
    schema = field["schema"]
    while schema["type"] in {"default", "nullable"}:
        schema = schema["schema"]
    if schema["type"] != "list":
        return False
    items = schema["items_schema"]
    return bool(items["type"] == "chain" and items["steps"][0] is _A_DICT)
