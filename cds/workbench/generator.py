"""A large synthetic population for back-tests, written as a FHIR Bulk Data export.

Each patient is a copy of a Synthea patient with fresh ids (every UUID replaced), dates moved to the
present, and, for an exact share of them, spasm findings written in the test-case phrases. Copies keep
only the resources the rules read (the Patient's id, gender and birth date, and the Conditions,
Observations and medications the value sets recognise): the rest of a Synthea record (claims,
encounters, vital signs, ...) is never looked at by the rules, and keeping it would make a 100,000
patient export about 100 GB instead of about 2.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import Field
from tqdm import tqdm

from cds.facts.dates import observed_at
from cds.fhir import InputError, PatientMatcher, RawResource, formats, patient_ids, read_path
from cds.fhir.patient import patient_of
from cds.frozen import Frozen
from cds.rulebook.model import Rulebook
from cds.terminology.codeable import codings, concept_text
from cds.workbench.builder import build_resource
from cds.workbench.lexicon import Lexicon
from cds.workbench.population import MANIFEST
from cds.workbench.scenarios import Scenarios

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SLOT = re.compile(rf'(?P<uuid>{_UUID})|"(?P<date>\d{{4}}-\d{{2}}-\d{{2}})(?P<rest>(?:T[^"]*)?)"')
_KEPT_PATIENT_FIELDS = ("resourceType", "id", "gender", "birthDate")
_MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")
_WRITE_BUFFER = 2**20
_DAYS_PER_UNIT = {"d": 1, "wk": 7}


class PopulationSpec(Frozen):
    source: Path
    out: Path
    patients: int = Field(ge=1)
    spasm_share: float = Field(ge=0.0, le=1.0)
    seed: int = 0
    now: dt.datetime
    recent_days: int = Field(default=365, ge=1)
    """Each copy's dates move so the source's export date falls up to this many days before `now`."""
    history_days: int | None = Field(default=None, ge=1)
    """Drop lab and assessment results older than this (None: keep all); must exceed every time window."""


class PopulationSummary(Frozen):
    """Written into the manifest's `extension`, so a back-test report can say what the population is."""

    source: str
    scenarios_file: str
    templates: int
    skipped_sources: list[str]
    seed: int
    patients: int
    spasm_share: float
    patients_with_spasm_findings: int
    scenarios: dict[str, int]
    resources: dict[str, int]
    kept: str


@dataclass(frozen=True, slots=True)
class _Id:
    value: int


@dataclass(frozen=True, slots=True)
class _Date:
    ordinal: int
    rest: str
    """The time of day and zone, kept as written."""


_Part = str | _Id | _Date


@dataclass(frozen=True, slots=True)
class _Line:
    """One resource as JSON text cut at every UUID and date, for fast re-filling."""

    rtype: str
    parts: tuple[_Part, ...]
    measured: int | None
    """Date ordinal of a lab or assessment result, so a copy can drop those older than `history_days`."""


_Template = tuple[_Line, ...]


def make_population(
    spec: PopulationSpec, rulebook: Rulebook, scenarios: Scenarios, *, progress: bool = False
) -> PopulationSummary:
    """Raises InputError when the source holds no usable patient or `out` is not an empty folder.

    `scenarios` must have been loaded against `rulebook` (`load_scenarios`), which checked every line.
    """
    if spec.out.exists() and (not spec.out.is_dir() or any(spec.out.iterdir())):
        raise InputError(f"{spec.out}: expected a new or empty folder for the population")
    _check_history(spec, rulebook)
    templates, skipped, anchor = _templates(spec.source, rulebook)
    if not templates:
        raise InputError(f"{spec.source}: no patient Bundle with UUID ids to copy ({', '.join(skipped)})")
    spec.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(spec.seed)
    lexicon = Lexicon(rulebook)
    scenario_counts: Counter[str] = Counter()
    resource_counts: Counter[str] = Counter()
    base_shift = (spec.now.date() - anchor).days
    oldest = spec.now.date().toordinal() - spec.history_days if spec.history_days else None
    with _Writers(spec.out) as writers:
        for index in tqdm(range(spec.patients), unit=" patients", disable=not progress):
            template = rng.choice(templates)
            key = rng.getrandbits(128)
            shift = base_shift - rng.randrange(spec.recent_days)
            patient_id = ""
            for rtype, text in _filled(template, key, shift, oldest):
                if not patient_id and rtype == "Patient":
                    patient_id = patient_of(orjson.loads(text)) or ""
                writers.write(rtype, text)
                resource_counts[rtype] += 1
            if int((index + 1) * spec.spasm_share) > int(index * spec.spasm_share):
                scenario = scenarios.pick(rng)
                scenario_counts[scenario.name] += 1
                record = scenarios.record(scenario, scenarios.draw(rng), lexicon)
                for line, item in enumerate(record, start=1):
                    resource = build_resource(item, line=line, patient_id=patient_id, now=spec.now)
                    resource["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    writers.write(resource["resourceType"], orjson.dumps(resource).decode())
                    resource_counts[resource["resourceType"]] += 1
    summary = PopulationSummary(
        source=str(spec.source),
        scenarios_file=scenarios.file,
        templates=len(templates),
        skipped_sources=skipped,
        seed=spec.seed,
        patients=spec.patients,
        spasm_share=spec.spasm_share,
        patients_with_spasm_findings=sum(scenario_counts.values()),
        scenarios=dict(sorted(scenario_counts.items())),
        resources=dict(sorted(resource_counts.items())),
        kept="Patient (id, gender, birthDate) and the Conditions, Observations and medications the rules "
        f"recognise{_history_words(spec)}; dates moved so the source's latest date falls "
        f"0-{spec.recent_days - 1} days before transactionTime",
    )
    _write_manifest(spec, summary)
    return summary


def _history_words(spec: PopulationSpec) -> str:
    return (
        f" (lab and assessment results of the last {spec.history_days} days only)"
        if spec.history_days
        else ""
    )


def _check_history(spec: PopulationSpec, rulebook: Rulebook) -> None:
    """History may be cut only beyond the longest time window, or cards would change."""
    if spec.history_days is None:
        return
    windows = {
        name: float(p.value) * _DAYS_PER_UNIT[p.unit]
        for name, p in rulebook.parameters.items()
        if p.unit in _DAYS_PER_UNIT and isinstance(p.value, int | float)
    }
    longest = max(windows, key=windows.__getitem__)
    if spec.history_days <= windows[longest]:
        raise InputError(
            f"--history-days {spec.history_days} must exceed {longest} ({windows[longest]:g} days in "
            "parameters.yaml), or results the rules count would be dropped"
        )


def _templates(source: Path, rulebook: Rulebook) -> tuple[list[_Template], list[str], dt.date]:
    files = sorted(p for p in source.iterdir() if p.is_file() and formats.is_json(p.name))
    templates: list[_Template] = []
    skipped: list[str] = []
    latest = dt.date.min
    for file in files:
        try:
            resources = read_path(file).resources
        except InputError as exc:
            skipped.append(f"{file.name} ({exc})")
            continue
        ids = patient_ids(resources)
        if len(ids) != 1 or not re.fullmatch(_UUID, ids[0]):
            skipped.append(f"{file.name} (needs exactly one patient, with a UUID id)")
            continue
        kept = _kept(resources, PatientMatcher.for_patient(ids[0], resources), rulebook)
        template, dates = _cut(kept, rulebook)
        templates.append(template)
        latest = max([latest, *dates])
    return templates, skipped, latest if latest > dt.date.min else dt.date.today()


def _kept(resources: list[RawResource], matcher: PatientMatcher, rulebook: Rulebook) -> list[dict[str, Any]]:
    """The Patient and every resource about it the rules could read, subjects made Patient/<id>."""
    terminology = rulebook.terminology
    kept: list[dict[str, Any]] = []
    for raw in resources:
        resource = raw.resource
        rtype = raw.resource_type
        if rtype == "Patient" and raw.id == matcher.patient_id:
            kept.insert(0, {k: resource[k] for k in _KEPT_PATIENT_FIELDS if k in resource})
            continue
        if not matcher.is_about_patient(raw):
            continue
        if rtype in ("Condition", "Observation"):
            readable = terminology.finding(resource) is not None
        elif rtype in _MEDICATION_TYPES:
            concept = resource.get("medicationCodeableConcept")
            readable = (
                concept is None or terminology.medication(codings(concept), concept_text(concept)) is not None
            )
        else:
            readable = False
        if readable:
            kept.append(matcher.with_plain_references(resource))
    return kept


def _cut(resources: list[dict[str, Any]], rulebook: Rulebook) -> tuple[_Template, list[dt.date]]:
    lines: list[_Line] = []
    dates: list[dt.date] = []
    for resource in resources:
        text = orjson.dumps(resource).decode()
        parts: list[_Part] = []
        position = 0
        for found in _SLOT.finditer(text):
            parts.append(text[position : found.start()])
            if found.group("uuid"):
                parts.append(_Id(int(found.group("uuid").replace("-", ""), 16)))
            else:
                day = dt.date.fromisoformat(found.group("date"))
                if resource["resourceType"] != "Patient":
                    dates.append(day)
                parts.append(_Date(day.toordinal(), found.group("rest")))
            position = found.end()
        parts.append(text[position:])
        observed = observed_at(resource) if resource["resourceType"] == "Observation" else None
        lines.append(
            _Line(str(resource["resourceType"]), tuple(parts), observed.toordinal() if observed else None)
        )
    return tuple(lines), dates


def _filled(template: _Template, key: int, shift: int, oldest: int | None) -> Iterator[tuple[str, str]]:
    """The template's resources with every UUID xor-ed with `key` and every date moved `shift` days;
    lab and assessment results dated before the ordinal `oldest` are left out."""
    for line in template:
        if oldest is not None and line.measured is not None and line.measured + shift < oldest:
            continue
        out = []
        for part in line.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, _Id):
                hexed = f"{part.value ^ key:032x}"
                out.append(f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}")
            else:
                out.append(f'"{dt.date.fromordinal(part.ordinal + shift).isoformat()}{part.rest}"')
        yield line.rtype, "".join(out)


class _Writers:
    """One NDJSON file per resource type, opened on first use."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._files: dict[str, IO[str]] = {}

    def __enter__(self) -> _Writers:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._files.values():
            handle.close()

    def write(self, rtype: str, line: str) -> None:
        if rtype not in self._files:
            self._files[rtype] = (self._folder / f"{rtype}.ndjson").open("w", buffering=_WRITE_BUFFER)
        self._files[rtype].write(line + "\n")


def _write_manifest(spec: PopulationSpec, summary: PopulationSummary) -> None:
    manifest = {
        "transactionTime": spec.now.isoformat(),
        "request": f"cds population make --patients {spec.patients} --spasm-share {spec.spasm_share} "
        f"--seed {spec.seed}",
        "requiresAccessToken": False,
        "output": [
            {"type": rtype, "url": f"{rtype}.ndjson", "count": count}
            for rtype, count in summary.resources.items()
        ],
        "error": [],
        "extension": {"spasm-cds-population": summary.model_dump(mode="json")},
    }
    (spec.out / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
