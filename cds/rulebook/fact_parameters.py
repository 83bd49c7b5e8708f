"""The fact layer's parameters, typed and checked against parameters.yaml and the value sets they read.

The facts never see the rulebook: they get this one model, so every number they use is named, typed and
reported with its place in parameters.yaml when it is missing or wrong.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cds.facts.parameters import (
    CertaintyFile,
    CourseFile,
    FactParameters,
    FactSettings,
    InterpretationFile,
    LabReadingFile,
    StatusFile,
    WordingFile,
)
from cds.rulebook.collect import Collector
from cds.rulebook.files import ParametersFile
from cds.rulebook.yamlsource import YamlDocument
from cds.terminology.valuesets import BodySiteFile

M = TypeVar("M", bound=BaseModel)


def _only_model(value_sets: dict[str, tuple[YamlDocument, BaseModel]], model: type[M]) -> M:
    return next(m for _, m in value_sets.values() if isinstance(m, model))


def fact_parameters(
    out: Collector,
    doc: YamlDocument,
    params: ParametersFile,
    value_sets: dict[str, tuple[YamlDocument, BaseModel]],
) -> FactParameters | None:
    """The parameters the fact layer reads, typed; each missing or mistyped one named in parameters.yaml."""
    values = {name: p.value for name, p in params.parameters.items()}
    scalars = {name: values[name] for name in FactSettings.model_fields if name in values}
    for name in FactSettings.model_fields:
        if name not in values:
            out.add(doc, ("parameters",), None, f"parameter {name} is required by the fact layer")
    try:
        settings = FactSettings.model_validate(scalars, strict=True)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            if name in values:
                out.add(doc, ("parameters", name, "value"), None, str(error["msg"]))
        return None
    reading = _only_model(value_sets, LabReadingFile)
    lookbacks: dict[str, int] = {}
    for analyte, name in reading.lookback_parameters.items():
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            out.add(
                doc,
                ("parameters",),
                None,
                f"parameter {name} (lookback of {analyte}, lab_reading.yaml) "
                "must be a non-negative whole number of days",
            )
            continue
        lookbacks[analyte] = value
    return FactParameters(
        **settings.model_dump(),
        lookbacks=lookbacks,
        certainty=_only_model(value_sets, CertaintyFile),
        interpretation=_only_model(value_sets, InterpretationFile),
        lab_reading=reading,
        course=_only_model(value_sets, CourseFile),
        status=_only_model(value_sets, StatusFile),
        wording=_only_model(value_sets, WordingFile),
        body_sites=_only_model(value_sets, BodySiteFile),
    )
