"""Full R4B validation of a single resource, only when the fact layer asks for it.

Elements R4B does not know (STU3 leftovers such as Observation.context, vendor additions) are not
worth rejecting real data over: they are removed from a copy and reported as warnings. Anything
else wrong makes the resource unusable, and the problems say which element and why.
"""

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from cds.fhir.flatschema import flat_validator, validate
from cds.fhir.models import Resource
from cds.fhir.raw import RawResource
from cds.fielderrors import message_of

T = TypeVar("T", bound=Resource)

_Location = tuple[int | str, ...]


class ValidationIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    severity: Literal["warning", "error"]

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def prepare_validator(model: type[Resource]) -> None:
    """Builds `model`'s validator now: the first validation of a class otherwise builds it, about 0.1 s
    for the rule types (measured), which a service's first call would wait for."""
    flat_validator(model)


def validate_resource(raw: RawResource, model: type[T]) -> tuple[T | None, list[ValidationIssue]]:
    """The model and its warnings, or None with errors first (callers show a few); bad data never raises."""
    expected = model.get_resource_type()
    if raw.resource_type != expected:
        message = f"expected a {expected} resource, found {raw.resource_type}"
        return None, [ValidationIssue(path=raw.resource_type, message=message, severity="error")]
    data = raw.resource
    issues: list[ValidationIssue] = []
    while True:  # ends: each pass removes at least one element or returns
        try:
            return validate(model, data), issues
        except ValidationError as error:
            details = error.errors(include_url=False, include_input=False)
        except (AttributeError, KeyError, TypeError) as error:
            # fhir.resources trusts the shape of contained resources and _element extensions
            message = f"cannot be validated ({type(error).__name__}: {error})"
            return None, [ValidationIssue(path=expected, message=message, severity="error"), *issues]
        unknown = [detail["loc"] for detail in details if detail["type"] == "extra_forbidden"]
        data, removed = _without(data, unknown)
        if not removed:
            return None, [*(_problem(expected, detail) for detail in details), *issues]
        issues.extend(
            ValidationIssue(path=_path(expected, loc), message="ignored unknown element", severity="warning")
            for loc in removed
        )


def _without(data: dict[str, Any], locations: list[_Location]) -> tuple[dict[str, Any], list[_Location]]:
    """A copy without the given elements; only the containers on their paths are copied."""
    root = dict(data)
    copied = {id(root)}
    removed: list[_Location] = []
    for location in locations:
        node: Any = root
        for step in location[:-1]:
            child = _child(node, step)
            if child is None:
                break
            if id(child) not in copied:
                child = dict(child) if isinstance(child, dict) else list(child)
                copied.add(id(child))
                node[step] = child
            node = child
        else:
            last = location[-1] if location else None
            if isinstance(node, dict) and isinstance(last, str) and last in node:
                del node[last]
                removed.append(location)
    return root, removed


def _child(node: Any, step: int | str) -> dict[str, Any] | list[Any] | None:
    if isinstance(node, dict) and isinstance(step, str):
        child = node.get(step)
    elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        child = node[step]
    else:
        return None
    return child if isinstance(child, dict | list) else None


def _problem(resource_type: str, detail: ErrorDetails) -> ValidationIssue:
    message = message_of(detail)
    return ValidationIssue(path=_path(resource_type, detail["loc"]), message=message, severity="error")


def _path(resource_type: str, location: _Location) -> str:
    """FHIR-style element path; "root" steps are pydantic's wrapper types, never FHIR element names."""
    steps = (f"[{step}]" if isinstance(step, int) else f".{step}" for step in location if step != "root")
    return resource_type + "".join(steps)
