"""What fhir.resources says of every resource in some files, with whatever validators fhir_core has.

Imported by the hooks' tests (fast validators installed) and run as a script in a fresh interpreter
that never imports `cds` (fhir_core's own validators): `python fhir_core_outcomes.py FILE...` prints
one outcome per resource as a JSON list, in the order `resources_in` finds them.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError


def resources_in(path: Path) -> Iterator[dict[str, Any]]:
    """Every resource outside a Bundle, in a Bundle, a prefetch object, a list or NDJSON lines."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = data.decode("utf-8-sig")
    lines = text.splitlines() if ".ndjson" in path.name else [text]
    documents = [json.loads(line) for line in lines if line.strip()]
    for document in documents:
        yield from _resources(document)


def _resources(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("resourceType"), str) and node["resourceType"] != "Bundle":
            yield node
            return
        for value in node.values():
            yield from _resources(value)
    elif isinstance(node, list):
        for value in node:
            yield from _resources(value)


Validate = Callable[[type[FHIRAbstractModel], dict[str, Any]], FHIRAbstractModel]


def model_validate(model: type[FHIRAbstractModel], resource: dict[str, Any]) -> FHIRAbstractModel:
    return model.model_validate(resource)


def outcome(resource: dict[str, Any], validate: Validate = model_validate) -> str:
    """ "valid", or the errors as fhir.resources reports them (type, location, message, context)."""
    try:
        validate(get_fhir_model_class(resource["resourceType"]), resource)
    except ValidationError as error:
        return f"{error.title}: {error.errors(include_url=False)!r}"
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return "valid"


def outcomes(
    paths: list[Path], resource_types: frozenset[str] | None, validate: Validate = model_validate
) -> list[str]:
    return [
        outcome(resource, validate)
        for path in paths
        for resource in resources_in(path)
        if resource_types is None or resource["resourceType"] in resource_types
    ]


def built_model_classes() -> list[type[FHIRAbstractModel]]:
    """Every R4B model class this process has built so far."""
    return [
        value
        for name, module in list(sys.modules.items())
        if name.startswith("fhir.resources.R4B.")
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, FHIRAbstractModel) and value.__module__ == name
    ]


def validator_modules(model: type[FHIRAbstractModel]) -> set[str]:
    """Where the null check and the after-validator pydantic bound into `model` come from."""
    validators = model.__pydantic_decorators__.model_validators
    reject = validators["reject_null_complex_elements"].func
    after = validators["validate_after_model_construction"].func
    return {getattr(reject, "__func__", reject).__module__, after.__module__}


if __name__ == "__main__":
    types = frozenset(sys.argv[1].split(",")) if sys.argv[1] else None
    found = outcomes([Path(name) for name in sys.argv[2:]], types)
    modules = set().union(*(validator_modules(model) for model in built_model_classes()))
    json.dump({"validators": sorted(modules), "outcomes": found}, sys.stdout)
