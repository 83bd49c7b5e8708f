"""The safe envelope for facts: nothing outside it may reach durable-rules.

The fact layer validates facts already; this is the engine's own guard, because a fact outside the
envelope can crash the whole process instead of failing one request. Messages name the fact id and field
but never a value. Only facts of a kind some pattern names, and only the fields some test reads, are coded
and sent.
"""

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from cds.engine.compiler import Program
from cds.engine.durable_host import MAX_FACT_PROPERTIES
from cds.engine.patterns import FIELD_NAME_PATTERN, Scalar
from cds.engine.serialise import Domain, domain_of, property_name
from cds.errors import EngineError

_FIELD_NAME = re.compile(FIELD_NAME_PATTERN)
_SCALARS = (str, int, float)


@dataclass(frozen=True)
class Batch:
    """The facts of one evaluation as durable will see them."""

    ids: tuple[str, ...]
    """The caller's fact id, by position in `facts`."""
    facts: tuple[dict[str, int], ...]
    """Coded properties of each fact worth sending."""
    kinds: frozenset[str]
    """The kinds of the facts sent."""


def prepare(facts: Sequence[Mapping[str, Scalar]], program: Program) -> Batch:
    """Check every fact, drop exact duplicates, and code the ones that can match a pattern."""
    first: dict[str, Mapping[str, Scalar]] = {}
    ids: list[str] = []
    coded: list[dict[str, int]] = []
    kinds: set[str] = set()
    for position, fact in enumerate(facts):
        fact_id, properties = _checked(fact, position)
        known = first.get(fact_id)
        if known is not None:
            if _signature(known) != _signature(fact):
                raise EngineError(f"fact id {fact_id!r} is used by two facts with different fields")
            continue
        first[fact_id] = fact
        kind = fact["kind"]
        if kind in program.kinds:
            ids.append(fact_id)
            kinds.add(str(kind))
            sent = program.properties
            code = program.codebook.code
            coded.append({prop: code(value) for prop, value in properties if prop in sent})
    return Batch(ids=tuple(ids), facts=tuple(coded), kinds=frozenset(kinds))


def _checked(fact: Mapping[str, Scalar], position: int) -> tuple[str, list[tuple[str, Scalar]]]:
    """The fact's id and each field's value under its property name, or EngineError naming the field."""
    if not isinstance(fact, Mapping):
        raise EngineError(f"fact at index {position}: expected a mapping of field names to scalars")
    fact_id = fact.get("id")
    if not isinstance(fact_id, str) or not fact_id:
        raise EngineError(f"fact at index {position}: field 'id' must be a non-empty string")
    kind = fact.get("kind")
    if not isinstance(kind, str) or not kind:
        raise EngineError(f"fact {fact_id!r}: field 'kind' must be a non-empty string")
    if len(fact) > MAX_FACT_PROPERTIES:
        raise EngineError(
            f"fact {fact_id!r} has {len(fact)} fields; at most {MAX_FACT_PROPERTIES} are allowed "
            "(durable-rules crashes at 253)"
        )
    properties = []
    for name, value in fact.items():
        value_type: type = type(value)
        plan = _plan(name, value_type)
        if plan is None or (plan[1] and not math.isfinite(value)):  # type: ignore[arg-type]
            _refuse(fact_id, name, value)
        properties.append((plan[0], value))
    return fact_id, properties


@functools.lru_cache(maxsize=4096)
def _plan(name: object, value_type: type) -> tuple[str, bool] | None:
    """The property a field of this name and value type is sent as, and whether its value is a float
    (to be checked finite); None when either is refused. Facts of one kind have the same few fields
    with the same types on every call, so each pair is worked out once."""
    if not isinstance(name, str) or _FIELD_NAME.fullmatch(name) is None:
        return None
    if not issubclass(value_type, _SCALARS):
        return None
    if issubclass(value_type, bool):
        domain = Domain.BOOL
    elif issubclass(value_type, str):
        domain = Domain.STRING
    else:
        domain = Domain.NUMBER
    return property_name(name, domain), issubclass(value_type, float)


def _refuse(fact_id: str, name: object, value: object) -> NoReturn:
    if not isinstance(name, str) or _FIELD_NAME.fullmatch(name) is None:
        raise EngineError(f"fact {fact_id!r}: field name {name!r} does not match {FIELD_NAME_PATTERN}")
    if not isinstance(value, _SCALARS):
        raise EngineError(
            f"fact {fact_id!r} field {name!r}: expected str, int, float or bool, got {type(value).__name__}"
        )
    raise EngineError(f"fact {fact_id!r} field {name!r}: expected a finite number")


def _signature(fact: Mapping[str, Scalar]) -> frozenset[tuple[str, str, Scalar]]:
    """Field values with their domain, so that 1, 1.0 and True are not taken for the same value."""
    return frozenset((name, domain_of(value), value) for name, value in fact.items())
