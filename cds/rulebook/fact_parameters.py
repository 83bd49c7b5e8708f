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
    WindowsFile,
    WordingFile,
)
from cds.rulebook.collect import Collector
from cds.rulebook.files import ParametersFile, Scalar
from cds.rulebook.yamlsource import YamlDocument
from cds.terminology.valuesets import BodySiteFile

M = TypeVar("M", bound=BaseModel)


def _only_model(value_sets: dict[str, tuple[YamlDocument, BaseModel]], model: type[M]) -> M:
    return next(m for _, m in value_sets.values() if isinstance(m, model))


def _days(
    out: Collector,
    at: tuple[YamlDocument, str | None],
    values: dict[str, Scalar],
    names: dict[str, str],
    what: str,
) -> dict[str, int]:
    """Each key's number of days, read from the parameter it names. A bad one is reported at the entry
    that names it (`at`: the file and its mapping of names), or in parameters.yaml (mapping None)."""
    doc, mapping = at
    days: dict[str, int] = {}
    for key, name in names.items():
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            loc: tuple[str, ...] = (mapping, key) if mapping else ("parameters",)
            found = "no such parameter" if name not in values else f"it is {value!r}"
            out.add(
                doc,
                loc,
                None,
                f"parameter {name} ({what.format(key)}) must be a non-negative whole number of days; {found}",
            )
            continue
        days[key] = value
    return days


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
    windows_doc, windows = next((d, m) for d, m in value_sets.values() if isinstance(m, WindowsFile))
    lookbacks = _days(
        out, (doc, None), values, reading.lookback_parameters, "lookback of {}, lab_reading.yaml"
    )
    finding_windows = _days(out, (windows_doc, "windows"), values, windows.windows, "window of {}")
    return FactParameters(
        **settings.model_dump(),
        lookbacks=lookbacks,
        windows=finding_windows,
        finding_windows=windows,
        certainty=_only_model(value_sets, CertaintyFile),
        interpretation=_only_model(value_sets, InterpretationFile),
        lab_reading=reading,
        course=_only_model(value_sets, CourseFile),
        status=_only_model(value_sets, StatusFile),
        wording=_only_model(value_sets, WordingFile),
        body_sites=_only_model(value_sets, BodySiteFile),
    )
