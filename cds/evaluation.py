"""The one path every entry point takes: resources -> facts -> rules -> findings -> cards.

The command line, the HTTP service, the rule tests and the back-test all call `Evaluator.evaluate`, so
they cannot disagree about a record. `evaluate` is the same path for one record, for library users.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from msgspec import Struct

from cds.cards.models import CdsResponse, response_of, to_json
from cds.cards.render import RuleCards, UuidFactory, build_cards, new_uuid
from cds.engine import Activation, Engine
from cds.facts.extract import FactSet, extract_facts
from cds.facts.regions import BodySites
from cds.facts.select import prepare_validators
from cds.fhir import PatientMatcher, ReadResult, check_in_input, read_input, read_path
from cds.findings import Decision, decide
from cds.rulebook import Rulebook, load_rulebook

_engine_serial = itertools.count(1)


class Evaluation(Struct, frozen=True, weakref=True):
    """What one evaluation found. A msgspec Struct: built in C once a call (a frozen dataclass sets
    each field through `object.__setattr__`); weakly referable, so a test can tell when it is freed."""

    response: CdsResponse
    facts: FactSet
    activations: tuple[Activation, ...]
    decision: Decision
    source_notes: tuple[str, ...]
    rulebook: Rulebook

    def response_json(self) -> bytes:
        return to_json(self.response)


class Evaluator:
    """A rulebook with its compiled engine and its rules' card parts; immutable, so a reload builds a
    new one and swaps it in. Raises RulebookError for a rule whose cards cannot be valid."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self.cards = RuleCards(rulebook)
        self.engine = Engine(rulebook.compiled, name=f"spasm-{rulebook.version}-{next(_engine_serial)}")
        self.body_sites = BodySites(rulebook.fact_parameters.body_sites, rulebook.terminology.systems)
        prepare_validators()

    def evaluate(
        self,
        read: ReadResult,
        *,
        patient_id: str | None = None,
        now: dt.datetime | None = None,
        new_uuid: UuidFactory = new_uuid,
    ) -> Evaluation:
        """Raises cds.fhir.InputError when the patient cannot be told (several, none named)."""
        moment = now or dt.datetime.now(dt.UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        matcher = (
            PatientMatcher.for_patient(patient_id, read.resources)
            if patient_id
            else PatientMatcher.infer(read.resources)
        )
        facts = extract_facts(
            read.resources,
            matcher=matcher,
            terminology=self.rulebook.terminology,
            parameters=self.rulebook.fact_parameters,
            now=moment,
            sites=self.body_sites,
        )
        activations = self.engine.evaluate([f.engine_payload() for f in facts.facts])
        decision = decide(self.rulebook, activations)
        cards = build_cards(decision, facts, self.cards, new_uuid)
        return Evaluation(
            response=response_of(cards),
            facts=facts,
            activations=tuple(activations),
            decision=decision,
            source_notes=tuple(map(str, read.notes)),
            rulebook=self.rulebook,
        )


Source = ReadResult | Path | str | bytes | dict[str, Any] | list[Any]
"""A file or folder (Path or str), JSON text as bytes, parsed JSON (dict or list), or input already read."""


def evaluate(
    source: Source,
    *,
    now: dt.datetime | None = None,
    patient_id: str | None = None,
    rules: Path | str | None = None,
) -> Evaluation:
    """The evaluation of one record with the shipped rules (or `rules`), as `cds evaluate` gives it.

    The rules are loaded for this call (tens of milliseconds) and their engine closed after; for many
    records keep one `Evaluator`. Raises InputError for input that cannot be read or a `patient_id` it
    does not hold, and RulebookError for rules that do not load.
    """
    read = _read(source)
    if patient_id is not None:
        check_in_input(patient_id, read.resources)
    evaluator = Evaluator(load_rulebook(rules))
    try:
        return evaluator.evaluate(read, patient_id=patient_id, now=now)
    finally:
        evaluator.engine.close()


def _read(source: Source) -> ReadResult:
    if isinstance(source, ReadResult):
        return source
    if isinstance(source, Path | str):
        return read_path(source)
    return read_input(source)
