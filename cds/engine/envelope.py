"""The safe envelope for facts: nothing outside it may reach durable-rules.

The fact layer validates facts already; this is the engine's own guard, because a fact outside the
envelope can crash the whole process instead of failing one request. Messages name the fact id and field
but never a value. Only facts of a kind some pattern names, and only the fields some test reads, are coded
and sent.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from cds.engine.compiler import Program
from cds.engine.durable_host import MAX_FACT_PROPERTIES
from cds.engine.patterns import FIELD_NAME_PATTERN, Scalar
from cds.engine.serialise import Codebook, Domain, coded_row, domain_of, property_name
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
        fact_id, shape, values = _checked(fact, position, program)
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
            coded.append(coded_row(shape.sent, values))
    return Batch(ids=tuple(ids), facts=tuple(coded), kinds=frozenset(kinds))


def _checked(
    fact: Mapping[str, Scalar], position: int, program: Program
) -> tuple[str, _Shape, tuple[Scalar, ...]]:
    """The fact's id, shape and values, or EngineError naming the field."""
    if type(fact) is not dict and not isinstance(fact, Mapping):
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
    values = tuple(fact.values())
    shape = _shape(program.properties, program.codebook, tuple(fact), tuple(map(type, values)))
    if shape is None or (shape.floats and not all(map(math.isfinite, [values[i] for i in shape.floats]))):  # type: ignore[arg-type]
        for name, value in fact.items():
            value_type: type = type(value)
            plan = _plan(name, value_type)
            if plan is None or (plan[1] and not math.isfinite(value)):  # type: ignore[arg-type]
                _refuse(fact_id, name, value)
    assert shape is not None
    return fact_id, shape, values


@dataclass(frozen=True, slots=True)
class _Shape:
    """How the facts of one shape (field names and value types, in order) are checked and coded."""

    floats: tuple[int, ...]
    """The positions of the fields whose value is a float, to be checked finite."""
    sent: tuple[tuple[int, str, tuple[Any, ...]], ...]
    """Of each field some test reads: its position, its property and the thresholds it is coded by."""


@functools.lru_cache(maxsize=1024)
def _shape(
    sent: frozenset[str], codebook: Codebook, names: tuple[object, ...], types: tuple[type, ...]
) -> _Shape | None:
    """`_plan` of every field of a fact at once, with what coding it for a program needs; None when
    some field is refused. Facts of one kind have the same fields with the same types on every call,
    so each shape is worked out once per program."""
    plans = [_plan(name, value_type) for name, value_type in zip(names, types, strict=True)]
    checked = [plan for plan in plans if plan is not None]
    if len(checked) < len(plans):
        return None
    return _Shape(
        floats=tuple(index for index, (_, is_float, _) in enumerate(checked) if is_float),
        sent=tuple(
            (index, prop, codebook.thresholds(domain))
            for index, (prop, _, domain) in enumerate(checked)
            if prop in sent
        ),
    )


@functools.lru_cache(maxsize=4096)
def _plan(name: object, value_type: type) -> tuple[str, bool, Domain] | None:
    """The property a field of this name and value type is sent as, whether its value is a float
    (to be checked finite) and its domain; None when either is refused."""
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
    return property_name(name, domain), issubclass(value_type, float), domain


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
