"""Rule test cases as YAML beside the rules: the schema, and loading with file/line/field errors.

A file holds one case, or a suite: `cases:` with defaults (`now`, `patient`) every case may override.
Record lines are read against the rulebook under test, so an unknown word is reported when the cases
load, with the file, the line and what was expected, before anything runs. Values may be written as
parameter references (`just below $magnesium_low_mg_dl`, see `references`), resolved against the same
rulebook, so a case that tests a rule's logic survives a change of the number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from cds.fielderrors import message_of
from cds.frozen import Frozen
from cds.rulebook.model import Rulebook
from cds.rulebook.problems import Problem
from cds.rulebook.yamlsource import Loc, YamlDocument, YamlSyntaxError, read_yaml
from cds.workbench.builder import JsonObject, PatientSpec
from cds.workbench.lexicon import Lexicon
from cds.workbench.phrases import PhraseError, RecordItem, parse_phrase
from cds.workbench.references import ParameterReferenceError, ParameterReferences, ParameterUse

TopIndicator = Literal["info", "warning", "critical", "none"]
_RECORD_LINE = (
    "expected a phrase such as 'cramp, onset 10 days ago' or a raw resource as {fhir: {resourceType: ...}}"
)
_EXPECT_KEYS = "cards, top, fired, not fired, held back, card contains, card lacks, set aside"


class _Strict(Frozen):
    model_config = ConfigDict(populate_by_name=True)


class Expect(_Strict):
    """What must be true of the outcome; only what is written is checked."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    cards: list[str] | None = Field(default=None, description="Exactly these rules give cards.")
    top: TopIndicator | None = Field(default=None, description="Indicator of the most urgent card.")
    fired: list[str] = Field(default_factory=list)
    not_fired: list[str] = Field(default=[], alias="not fired")
    held_back: list[str] = Field(default=[], alias="held back")
    card_contains: list[str] = Field(default=[], alias="card contains")
    card_lacks: list[str] = Field(default=[], alias="card lacks")
    set_aside: list[str] = Field(default=[], alias="set aside")

    @model_validator(mode="after")
    def _says_something(self) -> Expect:
        if not self.model_fields_set:
            raise ValueError(
                f"expect says nothing, so the case could never fail; give any of: {_EXPECT_KEYS}"
            )
        return self

    def rule_ids(self) -> list[tuple[str, int, str]]:
        """(field, index, rule id) of every rule id named, to check them against the rulebook."""
        named = [("cards", self.cards or []), ("fired", self.fired), ("not fired", self.not_fired)]
        named.append(("held back", self.held_back))
        return [(key, index, rule) for key, rules in named for index, rule in enumerate(rules)]


Moment = dt.datetime | dt.date


class CaseSpec(_Strict):
    name: str = Field(min_length=1)
    description: str | None = None
    now: Moment | None = None
    patient: PatientSpec | None = None
    record: list[Any] = Field(default=[], description="Phrases, or {fhir: {...}} for a raw resource.")
    expect: Expect


class SuiteSpec(_Strict):
    now: Moment | None = None
    patient: PatientSpec | None = None
    cases: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Case:
    name: str
    file: str
    line: int | None
    now: dt.datetime
    patient: PatientSpec
    record: tuple[RecordItem | JsonObject, ...]
    expect: Expect
    depends_on: tuple[ParameterUse, ...] = ()
    """The parameters the case names, or whose threshold a number it writes is compared with."""

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass
class CaseSuite:
    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def load_cases(directory: Path, rulebook: Rulebook, *, now: dt.datetime) -> CaseSuite:
    """Every *.yaml under `directory` (sorted); `now` is for cases that do not set their own."""
    suite = CaseSuite()
    if not directory.is_dir():
        suite.problems.append(
            Problem(str(directory), None, None, "", "test-case directory not found", of="case")
        )
        return suite
    files = sorted(p for p in directory.rglob("*.yaml") if p.is_file())
    if not files:
        suite.problems.append(
            Problem(str(directory), None, None, "", "no test cases (*.yaml) here", of="case")
        )
    vocabulary = _Vocabulary(
        Lexicon(rulebook), {rule.id for rule in rulebook.rules}, ParameterReferences(rulebook)
    )
    for path in files:
        display = _display(path)
        suite.files.append(display)
        _FileLoader(display, path, vocabulary, now, suite).load()
    suite.problems.sort(key=lambda p: (p.file, p.line or 0))
    return suite


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class _Vocabulary:
    """What a case may name, from the rulebook under test."""

    lexicon: Lexicon
    rule_ids: set[str]
    references: ParameterReferences


class _FileLoader:
    def __init__(
        self, display: str, path: Path, vocabulary: _Vocabulary, now: dt.datetime, suite: CaseSuite
    ) -> None:
        self.display, self.path, self.vocabulary = display, path, vocabulary
        self.now, self.suite = now, suite
        self.doc: YamlDocument | None = None

    def problem(self, loc: Loc, case: str | None, message: str, field: str | None = None) -> None:
        line = self.doc.line_of(loc) if self.doc else None
        where = field if field is not None else ".".join(str(part) for part in loc)
        self.suite.problems.append(Problem(self.display, line, case, where, message, of="case"))

    def load(self) -> None:
        try:
            self.doc = read_yaml(self.path, self.display)
        except YamlSyntaxError as exc:
            self.suite.problems.append(Problem(self.display, exc.line, None, "", str(exc), of="case"))
            return
        data = self.doc.data
        if not isinstance(data, dict):
            self.problem((), None, "expected a case (name, record, expect) or a suite (cases: [...])")
            return
        if "cases" not in data:
            self.case(data, (), None, None)
            return
        suite = self.validate(SuiteSpec, data, (), None)
        if suite is None:
            return
        for index, raw in enumerate(suite.cases):
            self.case(raw, ("cases", index), suite.now, suite.patient)

    def validate(self, model: type[Any], data: Any, loc: Loc, case: str | None) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                where = (*loc, *error["loc"])
                message = message_of(error)
                if error["type"] == "extra_forbidden" and "expect" in where:
                    message += f" (expect knows: {_EXPECT_KEYS})"
                self.problem(where, case, message, ".".join(str(part) for part in where))
            return None

    def case(self, raw: Any, loc: Loc, suite_now: Moment | None, suite_patient: PatientSpec | None) -> None:
        if not isinstance(raw, dict):
            self.problem(loc, None, "expected a case: a mapping with name, record and expect")
            return
        name = raw.get("name") if isinstance(raw.get("name"), str) else None
        spec: CaseSpec | None = self.validate(CaseSpec, raw, loc, name)
        if spec is None:
            return
        before = len(self.suite.problems)
        for key, index, rule in spec.expect.rule_ids():
            if rule not in self.vocabulary.rule_ids:
                known = ", ".join(sorted(self.vocabulary.rule_ids))
                self.problem(
                    (*loc, "expect", key, index), spec.name, f"unknown rule id {rule!r} (rules: {known})"
                )
        uses: list[ParameterUse] = []
        record = self.record(spec, loc, uses)
        expect = self.expect(spec, loc, uses)
        if record is None or len(self.suite.problems) > before:
            return
        self.suite.cases.append(
            Case(
                name=spec.name,
                file=self.display,
                line=self.doc.line_of((*loc, "name")) if self.doc else None,
                now=_moment(spec.now or suite_now, self.now),
                patient=spec.patient or suite_patient or PatientSpec(),
                record=record,
                expect=expect,
                depends_on=tuple(dict.fromkeys(uses)),
            )
        )

    def expect(self, spec: CaseSpec, loc: Loc, uses: list[ParameterUse]) -> Expect:
        """The expectation with the parameter references in its words replaced by their values."""
        resolved: dict[str, list[str]] = {}
        for name, key in (
            ("card_contains", "card contains"),
            ("card_lacks", "card lacks"),
            ("set_aside", "set aside"),
        ):
            words: list[str] = []
            for index, text in enumerate(getattr(spec.expect, name)):
                try:
                    shown, used = self.vocabulary.references.text(text)
                except ParameterReferenceError as exc:
                    self.problem((*loc, "expect", key, index), spec.name, f"{text!r}: {exc}")
                    shown, used = text, ()
                words.append(shown)
                uses.extend(used)
            resolved[name] = words
        return spec.expect.model_copy(update=resolved)

    def record(
        self, spec: CaseSpec, loc: Loc, uses: list[ParameterUse]
    ) -> tuple[RecordItem | JsonObject, ...] | None:
        items: list[RecordItem | JsonObject] = []
        ok = True
        for index, line in enumerate(spec.record):
            where, field = (*loc, "record", index), f"record[{index}]"
            if isinstance(line, dict) and set(line) == {"fhir"} and _is_resource(line["fhir"]):
                items.append(line["fhir"])
                continue
            if not isinstance(line, str):
                self.problem(where, spec.name, _RECORD_LINE, field)
                ok = False
                continue
            try:
                resolved, used = self.vocabulary.references.line(line)
                item = parse_phrase(resolved, self.vocabulary.lexicon)
            except (PhraseError, ParameterReferenceError) as exc:
                self.problem(where, spec.name, f"{line!r}: {exc}", field)
                ok = False
                continue
            items.append(item)
            uses.extend(used or self.vocabulary.references.compared(item))
        return tuple(items) if ok else None


def _is_resource(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def _moment(value: Moment | None, default: dt.datetime) -> dt.datetime:
    if value is None:
        return default
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
