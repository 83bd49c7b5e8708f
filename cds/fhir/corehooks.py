"""fhir_core's per-element validators, answered from facts about each class when there is nothing to refuse.

fhir.resources builds every element of a resource (a Condition is about eleven: codings, concepts,
references, periods) through three Python validators of fhir_core, and each redoes per call what
depends only on the class: `reject_null_complex_elements` asks every field of the model whether it is
a list of complex types; `validate_after_model_construction` rebuilds the required and choice
(`value[x]`) field tables and looks up their field infos; `fhir_model_validator` builds each element
with `model_validate`, which for these classes calls the class and then runs the after-validator a
second time. Together that was about half the time a resource takes to validate. The replacements
work the class facts out once per class and use them only to see that the original has nothing to
object to; on any doubt (a null in a list, a required primitive or a choice to look at closer, a class
that is not as expected) they call fhir_core's original, which accepts or raises exactly as it always
did. So the same things are accepted and refused, with the same errors; nothing about a resource or a
body is remembered.

Building an element (and a resource, `validate`) then skips the two Python constructors between
fhir_core and pydantic-core: `model(**data)` runs `FHIRAbstractModel.__init__`, which for data
without a resource type only passes it on to `BaseModel.__init__`, which validates a copy of it into
the new instance and nothing else. The fast build makes that one call itself, on the same copy
(`dict(**data)` refuses keys that are not text exactly as the call does), about a sixth of a
resource's validation.

pydantic binds a model's validators when its class is built, so `install` must run before any
fhir.resources model class exists: `cds.fhir` imports this module first, and fhir.resources is
imported only inside `cds.fhir`. It replaces the validators only on the fhir_core and pydantic
releases they were proven against (`PROVEN_FHIR_CORE`, `PROVEN_PYDANTIC`); on any other release
fhir_core is left alone, slower and never different.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Final, TypeVar

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from fhir_core.utils import is_list_type, is_primitive_type
from pydantic import BaseModel
from pydantic.fields import FieldInfo

T = TypeVar("T", bound=FHIRAbstractModel)

PROVEN_FHIR_CORE: Final = "1.1.12"
PROVEN_PYDANTIC: Final = "2.14.4"

# The generated classes: their required and choice field tables are literals (tests/fhir prove it) and
# their only model validators are fhir_core's.
_GENERATED_MODULES: Final = "fhir.resources.R4B."

# Where each validator lives, and fhir_core's own as pydantic finds it in the class's namespace.
_HOOKED: Final = (
    (FHIRAbstractModel, "reject_null_complex_elements"),
    (FHIRAbstractModel, "validate_after_model_construction"),
    (FhirBase, "fhir_model_validator"),
)
_ORIGINALS: Final[dict[str, Any]] = {name: vars(owner)[name] for owner, name in _HOOKED}
_original_reject: Final[Callable[[type[FHIRAbstractModel], Any], Any]] = _ORIGINALS[
    "reject_null_complex_elements"
].__func__
_original_after: Final[Callable[[FHIRAbstractModel], FHIRAbstractModel]] = _ORIGINALS[
    "validate_after_model_construction"
]
_original_element: Final[Callable[[type[FhirBase], Any, type[FHIRAbstractModel]], Any]] = _ORIGINALS[
    "fhir_model_validator"
].__func__
_missing: Final = object()
_new_instance: Final = object.__new__
_base_init: Final = vars(BaseModel)["__init__"]


def install() -> bool:
    """Put the fast validators in fhir_core if this fhir_core and pydantic are the proven ones; True if so."""
    if version("fhir_core") != PROVEN_FHIR_CORE or version("pydantic") != PROVEN_PYDANTIC:
        return False
    _replace(
        {
            "reject_null_complex_elements": classmethod(reject_null_complex_elements),
            "validate_after_model_construction": validate_after_model_construction,
            "fhir_model_validator": classmethod(fhir_model_validator),
        }
    )
    return True


def uninstall() -> None:
    """fhir_core's own validators back (the first two for classes built from now on)."""
    _replace(_ORIGINALS)
    _complex_list_keys.cache_clear()
    _after_facts.cache_clear()
    _built_by_init.cache_clear()


def _replace(validators: dict[str, Any]) -> None:
    for owner, name in _HOOKED:
        setattr(owner, name, validators[name])


def reject_null_complex_elements(cls: type[FHIRAbstractModel], data: Any) -> Any:
    """The input itself when no list of complex elements holds a null; otherwise fhir_core's answer."""
    if type(data) is not dict:
        return _original_reject(cls, data)
    fields, keys = _complex_list_keys(cls)
    if fields is not cls.__pydantic_fields__:
        return _original_reject(cls, data)
    for key in keys.intersection(data):
        value = data[key]
        if isinstance(value, list):
            for item in value:
                if item is None:
                    return _original_reject(cls, data)
    return data


def validate_after_model_construction(self: FHIRAbstractModel) -> FHIRAbstractModel:
    """The model when its required primitives are all set and no choice has two or a missing required one."""
    cls = type(self)
    facts = _after_facts(cls)
    if facts is None or facts.fields is not cls.__pydantic_fields__:
        return _original_after(self)
    for key in facts.required:
        if getattr(self, key, _missing) in (_missing, None):
            return _original_after(self)
    for choices, required in facts.choices:
        found = False
        for key in choices:
            if getattr(self, key, None) is not None:
                if found:
                    return _original_after(self)
                found = True
        if required and not found:
            return _original_after(self)
    return self


def fhir_model_validator(cls: type[FhirBase], value: Any, model_klass: type[FHIRAbstractModel]) -> Any:
    """An element given as a dict built as calling its class builds it, which is all `model_validate` does.

    For a generated class, `model_validate(data)` calls the class with `data` as keywords (pydantic's
    custom `__init__` path) and then runs the after-validator a second time on the result, which
    passed a moment before on the same instance; calling the class is the same build with the same
    errors, once. The original would then only check that the element is of the class, and so of its
    resource type, which a new instance of it is. Anything else (text, a resource with its type,
    another class) is left to the original whole.
    """
    untyped = type(value) is dict and "resourceType" not in value and "resource_type" not in value
    if untyped and _built_by_init(model_klass):
        return _build(model_klass, dict(**value))
    return _original_element(cls, value, model_klass)


def validate(model: type[T], data: Any) -> T:
    """`model.model_validate(data)`, with a resource of the model's own type built as the class builds it.

    For a generated class that is the class called with `data` as keywords, whose `__init__` takes
    the resource type out and checks it, and the after-validator run a second time; the fast build
    takes out the same key after the same check. Anything else goes to `model_validate` itself.
    """
    if (
        type(data) is dict
        and type(data.get("resourceType")) is str
        and data["resourceType"] == model.__resource_type__
        and "resource_type" not in data
        and _built_by_init(model)
    ):
        fields = dict(**data)
        del fields["resourceType"]
        return _build(model, fields)
    return model.model_validate(data)


def _build(model: type[T], fields: dict[str, Any]) -> T:
    """What `model(**fields)` does for a class `_built_by_init` vouches for: `BaseModel.__init__`'s call.

    `FHIRAbstractModel.__init__` passes fields without a resource type on unchanged, and
    `BaseModel.__init__` validates them into the instance; the model validators it could warn about
    (one returning another object) are fhir_core's or ours, which return the instance.
    """
    instance = _new_instance(model)
    model.__pydantic_validator__.validate_python(fields, self_instance=instance)
    return instance


@functools.cache
def _built_by_init(model: type[FHIRAbstractModel]) -> bool:
    """Whether `model_validate(data)` is `model(**data)` and the after-validator again, nothing else."""
    schema = model.__pydantic_core_schema__
    validators = model.__pydantic_decorators__.model_validators
    return (
        model.__module__.startswith(_GENERATED_MODULES)
        and type(model).__call__ is type.__call__
        and model.__new__ is _new_instance
        and vars(FHIRAbstractModel)["__init__"] is model.__init__
        and vars(FHIRAbstractModel)["__init__"].__globals__["BaseModel"] is BaseModel
        and vars(BaseModel)["__init__"] is _base_init
        and isinstance(model.__resource_type__, str)
        and "resourceType" not in model.__pydantic_fields__
        and getattr(model.model_validate, "__func__", None) is vars(BaseModel)["model_validate"].__func__
        and model.__pydantic_custom_init__ is True
        and set(validators) == {"reject_null_complex_elements", "validate_after_model_construction"}
        and schema["type"] == "function-after"
        and schema["function"]["function"] is validate_after_model_construction  # built once installed
        and schema["schema"]["type"] == "model"
        and schema["schema"].get("custom_init") is True
    )


@functools.cache
def _complex_list_keys(cls: type[FHIRAbstractModel]) -> tuple[dict[str, FieldInfo], frozenset[str]]:
    """The names and aliases under which the original looks for nulls, with the fields they come from."""
    fields = cls.__pydantic_fields__
    keys = set[str]()
    for name, field in fields.items():
        if is_list_type(field) and not is_primitive_type(field) and not name.endswith("__ext"):
            keys.add(name)
            if field.alias:
                keys.add(field.alias)
    return fields, frozenset(keys)


@dataclass(frozen=True)
class _AfterFacts:
    fields: dict[str, FieldInfo]
    required: tuple[str, ...]
    choices: tuple[tuple[tuple[str, ...], bool], ...]


@functools.cache
def _after_facts(cls: type[FHIRAbstractModel]) -> _AfterFacts | None:
    """The field names the original reads, or None when the class does not check as fhir_core's do."""
    base = FHIRAbstractModel
    if (
        cls._validate_required_primitive_elements is not base._validate_required_primitive_elements
        or cls._validate_one_of_many is not base._validate_one_of_many
        or cls.get_alias_mapping.__func__ is not base.get_alias_mapping.__func__  # type: ignore[attr-defined]
        or not _literal_tables(cls.get_required_fields)
        or not _literal_tables(cls.get_one_of_many_fields)
    ):
        return None
    fields = cls.__pydantic_fields__
    try:
        aliases = cls.get_alias_mapping()
        required = tuple(aliases[name] for name, _ in cls.get_required_fields(None))  # type: ignore[arg-type]
        choices = tuple(
            (tuple(names), _choice_required(fields, prefix, names))
            for prefix, names in cls.get_one_of_many_fields(None).items()  # type: ignore[arg-type]
        )
    except (KeyError, TypeError, IndexError, _NotAsExpected):
        return None
    if not all(key in fields for key in required):
        return None
    return _AfterFacts(fields=fields, required=required, choices=choices)


def _literal_tables(method: Callable[..., Any]) -> bool:
    module = getattr(method, "__module__", "")
    return module.startswith(_GENERATED_MODULES) or method.__qualname__.startswith("FHIRAbstractModel.")


class _NotAsExpected(Exception):
    """A class whose choice fields do not carry the markers fhir_core asserts: the original decides."""


def _choice_required(fields: dict[str, FieldInfo], prefix: str, names: list[str]) -> bool:
    extra = fields[names[0]].json_schema_extra
    if not isinstance(extra, dict) or extra["one_of_many"] != prefix:
        raise _NotAsExpected(prefix)
    return extra["one_of_many_required"] is True


INSTALLED: Final = install()
