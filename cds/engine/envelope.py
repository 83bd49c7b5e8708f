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

from cds.engine.compiler import Program
from cds.engine.durable_host import MAX_FACT_PROPERTIES
from cds.engine.patterns import FIELD_NAME_PATTERN, Scalar
from cds.engine.serialise import domain_of, property_name
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


def prepare(facts: Sequence[Mapping[str, Scalar]], program: Program) -> Batch:
    """Check every fact, drop exact duplicates, and code the ones that can match a pattern."""
    first: dict[str, Mapping[str, Scalar]] = {}
    ids: list[str] = []
    coded: list[dict[str, int]] = []
    for position, fact in enumerate(facts):
        fact_id = _check(fact, position)
        known = first.get(fact_id)
        if known is not None:
            if _signature(known) != _signature(fact):
                raise EngineError(f"fact id {fact_id!r} is used by two facts with different fields")
            continue
        first[fact_id] = fact
        if fact["kind"] in program.kinds:
            ids.append(fact_id)
            coded.append(_coded(fact, program))
    return Batch(ids=tuple(ids), facts=tuple(coded))


def _check(fact: Mapping[str, Scalar], position: int) -> str:
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
    for name, value in fact.items():
        if not isinstance(name, str) or not _is_field_name(name):
            raise EngineError(f"fact {fact_id!r}: field name {name!r} does not match {FIELD_NAME_PATTERN}")
        if not isinstance(value, _SCALARS):
            raise EngineError(
                f"fact {fact_id!r} field {name!r}: expected str, int, float or bool, "
                f"got {type(value).__name__}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise EngineError(f"fact {fact_id!r} field {name!r}: expected a finite number")
    return fact_id


def _signature(fact: Mapping[str, Scalar]) -> frozenset[tuple[str, str, Scalar]]:
    """Field values with their domain, so that 1, 1.0 and True are not taken for the same value."""
    return frozenset((name, domain_of(value), value) for name, value in fact.items())


def _coded(fact: Mapping[str, Scalar], program: Program) -> dict[str, int]:
    coded: dict[str, int] = {}
    for name, value in fact.items():
        prop = property_name(name, domain_of(value))
        if prop in program.properties:
            coded[prop] = program.codebook.code(value)
    return coded


@functools.lru_cache(maxsize=4096)
def _is_field_name(name: str) -> bool:
    """Facts of one kind have the same few field names on every call."""
    return _FIELD_NAME.fullmatch(name) is not None
