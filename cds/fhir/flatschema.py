"""pydantic-core validators that build a resource's elements themselves: one for the rule types.

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

The rule types share one validator (`TOGETHER`), a union on `resourceType`, so a call that validates
a Condition, an Observation and a MedicationRequest reads one schema of each element they share,
and the resource goes in as it came (no copy without its type). For the resource itself, not for
its elements, two checks move into one look at the input (`Flat.accepts`): unknown keys (the
schema ignores them, so that it can read `resourceType`), and the choice check of the after-validator,
a Python call from pydantic-core, where the input shows it (`_checked_at_the_top`); a required
primitive is then a required field of the schema.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import CodeType, MappingProxyType
from typing import Any, Final, TypeVar, cast

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import DateTime, FhirBase, Instant
from pydantic_core import SchemaError, SchemaValidator

from cds.fhir import corehooks
from cds.fhir.models import Condition, MedicationRequest, MedicationStatement, Observation

T = TypeVar("T", bound=FHIRAbstractModel)

Schema = dict[str, Any]
_Definitions = dict[type[FHIRAbstractModel], Schema]

_ELEMENT_FUNCTION: Final[CodeType | None] = next(
    (
        constant
        for constant in vars(FhirBase)["__get_pydantic_core_schema__"].__func__.__code__.co_consts
        if isinstance(constant, CodeType) and constant.co_name == "_validate"
    ),
    None,
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
        if flat is not None and data["resourceType"] == model.__resource_type__ and flat.accepts(data):
            try:
                built: T = flat.core.validate_python(data)
            except Exception:  # whatever it refuses or raises, fhir_core's own path decides below
                pass
            else:
                return built
    return corehooks.validate(model, data)


TOGETHER: Final = (Condition, MedicationRequest, MedicationStatement, Observation)
"""The types the rules read, validated by one validator: a call validates several of them, and the
elements they share (codings, concepts, references) are then one schema to read, not four."""


@dataclass(frozen=True, slots=True)
class Flat:
    """A validator that builds the resources of its classes from the whole resource, `resourceType`
    and all (a union on it picks the class); and what `accepts` checks in the input in its stead.

    A class's own fields ignore keys they do not know, so that `resourceType` can stay in the input;
    `accepts` refuses every other key they would have refused. Where the validator leaves the class's
    after-validator out (`_checked_at_the_top`), `accepts` does its choice (`value[x]`) check: it
    refuses two values of one choice, or none of a required one, in the built resource. A choice
    field is None unless its key (name or alias) came with a value that is not None, so at most one
    such key a choice means at most one value; and a required choice's fields are elements, built
    whenever their key came with a value.
    """

    core: SchemaValidator
    known: frozenset[str]
    """`resourceType` and every field's alias, the key JSON gives it by. A field's Python name, which
    pydantic also reads, is left to fhir_core's own path: beside its alias, fhir_core refuses it."""
    choice_keys: frozenset[str]
    choice_groups: Mapping[str, int]
    """Each choice's input keys, to the bit of its choice."""
    required_groups: int
    """The bits of the choices that need a value."""

    def accepts(self, data: dict[str, Any]) -> bool:
        """Whether `data` has only keys the class knows, each choice at most one value and a
        required one one."""
        if not self.known.issuperset(data):
            return False
        chosen = 0
        for key in self.choice_keys.intersection(data):
            if data[key] is not None:
                group = self.choice_groups[key]
                if chosen & group:
                    return False
                chosen |= group
        return chosen & self.required_groups == self.required_groups


@functools.cache
def flat_validator(model: type[FHIRAbstractModel]) -> Flat | None:
    """The validator for `model` (the one of `TOGETHER` for those), or None when the class is not as
    expected."""
    return _flat_validators(TOGETHER if model in TOGETHER else (model,)).get(model)


@functools.cache
def _flat_validators(models: tuple[type[FHIRAbstractModel], ...]) -> dict[type[FHIRAbstractModel], Flat]:
    """One validator for all of `models`, with their elements inlined, and each class's checks."""
    definitions: _Definitions = {}
    tops: dict[type[FHIRAbstractModel], _Top] = {}
    for model in models:
        if corehooks.INSTALLED and corehooks._built_by_init(model) and _define(model, definitions):
            top = _top(model, definitions)
            if top is not None:
                tops[model] = top
    if not tops:
        return {}
    schema = {
        "type": "definitions",
        "schema": {
            "type": "tagged-union",
            "discriminator": "resourceType",
            "choices": {model.__resource_type__: top.schema for model, top in tops.items()},
        },
        "definitions": list(definitions.values()),
    }
    try:
        core = SchemaValidator(schema)
    except SchemaError:  # a pydantic-core that reads these schemas otherwise: fhir_core's own path, then
        return {}
    return {
        model: Flat(core, top.known, frozenset(top.groups), MappingProxyType(top.groups), top.required)
        for model, top in tops.items()
    }


@dataclass(frozen=True)
class _Top:
    schema: Schema
    known: frozenset[str]
    groups: dict[str, int]
    required: int


def _top(model: type[FHIRAbstractModel], definitions: _Definitions) -> _Top | None:
    """`model`'s schema for the resource itself (an inner instance, a contained or an extension in an
    extension, keeps its definition): its fields ignore what they do not know, and the after-validator
    is left out when `_checked_at_the_top` can do without it."""
    definition = definitions[model]
    after = definition if definition["type"] == "function-after" else None
    flat_model = definition if after is None else after["schema"]
    fields_schema = flat_model["schema"]
    config = flat_model.get("config", {})
    if fields_schema["type"] != "model-fields" or "extra_behavior" in fields_schema:
        return None
    if config.get("extra_fields_behavior") != "forbid" or not config.get("validate_by_name"):
        return None
    if config.get("validate_by_alias") is False:
        return None
    known = {"resourceType"}
    for name, field in fields_schema["fields"].items():
        alias = field.get("validation_alias", name)
        if not isinstance(alias, str):
            return None
        known.add(alias)
    checked = None if after is None else _checked_at_the_top(model, fields_schema)
    fields = fields_schema["fields"] if checked is None else checked[0]
    ignoring = {
        **{key: value for key, value in flat_model.items() if key != "ref"},
        "config": {**config, "extra_fields_behavior": "ignore"},
        "schema": {**fields_schema, "fields": fields, "extra_behavior": "ignore"},
    }
    if checked is None:
        schema = ignoring if after is None else {**after, "schema": ignoring}
        schema.pop("ref", None)
        return _Top(schema, frozenset(known), {}, 0)
    return _Top(ignoring, frozenset(known), checked[1], checked[2])


def _checked_at_the_top(
    model: type[FHIRAbstractModel], fields_schema: Schema
) -> tuple[dict[str, Schema], dict[str, int], int] | None:
    """`model`'s fields for a schema without its after-validator, when the schema and `Flat.accepts`
    can do its checks: each required primitive becomes a required field that refuses a null (it is
    text, so what it accepts is never None), and each choice is checked in the input. With the
    choices' keys and their bits, and the bits of the required ones."""
    facts = corehooks._after_facts(model)
    if facts is None or facts.fields is not model.__pydantic_fields__:
        return None
    fields = dict(fields_schema["fields"])
    for name in facts.required:
        value = _optional_value(fields[name]["schema"])
        if value is None or value["type"] != "str":
            return None
        fields[name] = {**fields[name], "schema": value}
    groups: dict[str, int] = {}
    required = 0
    for index, (names, needed) in enumerate(facts.choices):
        bit = 1 << index
        for name in names:
            field = fields[name]
            value = _optional_value(field["schema"])
            if value is None:
                return None
            if needed and not (value["type"] == "chain" and value["steps"][0] is _A_DICT):
                return None
            groups[name] = groups[field.get("validation_alias", name)] = bit
        required |= bit if needed else 0
    return fields, groups, required


def _optional_value(schema: Schema) -> Schema | None:
    """The schema of a field's value when it is None unless given, and None only when given as null."""
    if schema["type"] != "default" or schema["default"] is not None or schema.get("validate_default"):
        return None
    if schema["schema"]["type"] != "nullable":
        return None
    return cast(Schema, schema["schema"]["schema"])


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
    if outer["type"] != "model" or outer["cls"] is not model or "post_init" in outer:
        return False
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
    checks_nothing = (
        facts is not None
        and facts.fields is model.__pydantic_fields__
        and not (facts.required or facts.choices)
    )
    if checks_nothing:
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
    if _ELEMENT_FUNCTION is None or getattr(function, "__code__", None) is not _ELEMENT_FUNCTION:
        return None
    cells = (cell.cell_contents for cell in function.__closure__)
    free = dict(zip(function.__code__.co_freevars, cells, strict=True))
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
