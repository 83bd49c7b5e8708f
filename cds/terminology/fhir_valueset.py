"""A FHIR ValueSet with an `expansion` (as VSAC and terminology servers publish them) as a concept's
members: an informaticist drops the JSON under rules/valuesets/fhir/ and names it in the concept."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cds.terminology.systems import SYSTEMS_CONTEXT, CodeSystems
from cds.terminology.valuesets import CodeEntry, ValueSetImport


class _Fhir(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Contains(_Fhir):
    system: str | None = None
    code: str | None = None
    display: str | None = None
    abstract: bool = False
    inactive: bool = False
    contains: list[Contains] = []


class Expansion(_Fhir):
    contains: list[Contains] = Field(min_length=1)


class FhirValueSet(_Fhir):
    resourceType: Literal["ValueSet"]
    url: str | None = None
    name: str | None = None
    version: str | None = None
    expansion: Expansion

    @model_validator(mode="before")
    @classmethod
    def _expanded(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("resourceType") == "ValueSet" and "expansion" not in data:
            raise ValueError(
                "this ValueSet has no `expansion`: export it expanded (VSAC: $expand; a terminology "
                "server: ValueSet/$expand), since a `compose` alone lists rules, not codes"
            )
        return data


def members(
    spec: FhirValueSet, taken: ValueSetImport, systems: CodeSystems
) -> tuple[list[CodeEntry], list[tuple[tuple[str | int, ...], str]]]:
    """The codes of the expansion (nested `contains` too; abstract and inactive ones left out), and the
    problems found, each with its location in the file."""
    source = f"FHIR ValueSet {spec.url or spec.name or '(unnamed)'}" + (
        f" version {spec.version}" if spec.version else ""
    )
    entries: list[CodeEntry] = []
    problems: list[tuple[tuple[str | int, ...], str]] = []

    def walk(items: list[Contains], loc: tuple[str | int, ...]) -> None:
        for index, item in enumerate(items):
            here = (*loc, index)
            walk(item.contains, (*here, "contains"))
            if item.abstract or item.inactive or item.code is None:
                continue
            coded = systems.canonical(item.system, item.code)
            if coded is None:
                problems.append(
                    (
                        (*here, "system"),
                        f"code system {item.system!r} is not one the rules know "
                        f"(rules/terminology/systems.yaml: {', '.join(systems.names.values())})",
                    )
                )
                continue
            entries.append(
                CodeEntry.model_validate(
                    {
                        "system": coded.system,
                        "code": item.code,
                        "display": item.display or item.code,
                        "status": taken.status,
                        "source": source,
                        "region": taken.region,
                    },
                    context={SYSTEMS_CONTEXT: systems},
                )
            )

    walk(spec.expansion.contains, ("expansion", "contains"))
    return entries, problems
