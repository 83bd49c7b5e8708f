"""The spasm findings a generated population carries, read from YAML so an informaticist adds one
without Python: a scenario is a few record lines in the rule-test phrases, with values drawn per patient.

The shipped scenarios live beside the rules (`rules/populations/scenarios.yaml`), so a copy of the rules
carries its own and a wheel install has them. Loading checks every line against the rulebook under test,
so a word the rules do not know is reported with file, line and field before a patient is written.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from cds.fhir import InputError
from cds.fielderrors import dotted, field_errors
from cds.frozen import Frozen
from cds.rulebook.loader import DEFAULT_RULES_DIR
from cds.rulebook.model import Rulebook
from cds.rulebook.problems import located
from cds.rulebook.yamlsource import Loc, YamlDocument, YamlSyntaxError, read_yaml
from cds.workbench.lexicon import Lexicon
from cds.workbench.phrases import PhraseError, RecordItem, parse_phrase

SCENARIOS_FILE = Path("populations") / "scenarios.yaml"
"""Where a rules directory keeps its population scenarios."""

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Draw(Frozen):
    """A value drawn per patient, uniformly between the bounds (inclusive): whole numbers unless
    `decimals` is given."""

    between: tuple[float, float]
    decimals: Annotated[int, Field(ge=1, le=6)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Draw:
        low, high = self.between
        if low > high:
            raise ValueError(f"between: the low bound {low:g} is above the high bound {high:g}")
        if self.decimals is None and (low != int(low) or high != int(high)):
            raise ValueError("whole-number bounds expected, or give decimals: N for a decimal value")
        return self

    def value(self, rng: random.Random) -> int | float:
        low, high = self.between
        if self.decimals is None:
            return rng.randint(int(low), int(high))
        return round(rng.uniform(low, high), self.decimals)

    @property
    def lowest(self) -> int | float:
        low = self.between[0]
        return int(low) if self.decimals is None else round(low, self.decimals)


class ScenarioSpec(Frozen):
    name: Annotated[str, Field(min_length=1)]
    weight: Annotated[int, Field(ge=1)] = 1
    """How often, relative to the other scenarios, a patient with findings gets this one."""
    record: Annotated[list[str], Field(min_length=1)]
    """Record lines as in a rule test case; {name} is a value of `draws`."""


class ScenariosFile(Frozen):
    draws: dict[Name, Draw] = Field(default_factory=dict)
    scenarios: Annotated[list[ScenarioSpec], Field(min_length=1)]


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Scenarios:
    """Loaded and checked against one rulebook; `draw` gives the values of one patient."""

    file: str
    draws: dict[str, Draw]
    scenarios: tuple[Scenario, ...]

    def draw(self, rng: random.Random) -> dict[str, int | float]:
        """Every value, in the file's order, so the same seed gives the same population."""
        return {name: draw.value(rng) for name, draw in self.draws.items()}

    def pick(self, rng: random.Random) -> Scenario:
        return rng.choices(self.scenarios, weights=[s.weight for s in self.scenarios])[0]

    def record(
        self, scenario: Scenario, values: dict[str, int | float], lexicon: Lexicon
    ) -> list[RecordItem]:
        """The scenario's lines with one patient's values, read as a rule test case reads them."""
        return [parse_phrase(line.format(**values), lexicon) for line in scenario.lines]


def scenarios_path(rulebook: Rulebook, given: Path | None) -> Path:
    """The file given, else the rules directory's own, else the shipped one."""
    if given is not None:
        return given
    own = rulebook.directory / SCENARIOS_FILE
    return own if own.is_file() else DEFAULT_RULES_DIR / SCENARIOS_FILE


def load_scenarios(path: Path, rulebook: Rulebook) -> Scenarios:
    """Raises InputError listing every problem, each as `file:line: field: what was expected`."""
    display = str(path)
    try:
        doc = read_yaml(path, display)
    except YamlSyntaxError as exc:
        raise InputError(located(display, exc.line, "", "", str(exc))) from None
    try:
        parsed = ScenariosFile.model_validate(doc.data)
    except ValidationError as error:
        problems = [_problem(doc, e.loc, e.message) for e in field_errors(error)]
        raise InputError(_listed(display, problems)) from None
    problems = list(_unreadable_lines(doc, parsed, Lexicon(rulebook)))
    names = [s.name for s in parsed.scenarios]
    problems += [
        _problem(doc, ("scenarios", index, "name"), f"{name!r} names an earlier scenario too")
        for index, name in enumerate(names)
        if name in names[:index]
    ]
    if problems:
        raise InputError(_listed(display, problems))
    return Scenarios(
        file=display,
        draws=dict(parsed.draws),
        scenarios=tuple(Scenario(s.name, s.weight, tuple(s.record)) for s in parsed.scenarios),
    )


def _unreadable_lines(doc: YamlDocument, parsed: ScenariosFile, lexicon: Lexicon) -> list[str]:
    """Each line read as its lowest draws would make it, so a word or phrase the rules do not know, or a
    value name `draws` lacks, is found now rather than at the patient that first draws the scenario."""
    lowest = {name: draw.lowest for name, draw in parsed.draws.items()}
    known = ", ".join(lowest) or "none"
    problems = []
    for index, scenario in enumerate(parsed.scenarios):
        for number, line in enumerate(scenario.record):
            loc: Loc = ("scenarios", index, "record", number)
            try:
                missing = [
                    name for _, name, _, _ in string.Formatter().parse(line) if name not in (None, *lowest)
                ]
                if missing:
                    raise PhraseError(f"{{{missing[0]}}} is not one of the draws ({known})")
                parse_phrase(line.format(**lowest), lexicon)
            except ValueError as exc:  # PhraseError, an unknown or ambiguous name, a stray brace
                problems.append(_problem(doc, loc, f"{line!r}: {exc}"))
    return problems


def _problem(doc: YamlDocument, loc: tuple[Any, ...], message: str) -> str:
    return located(doc.display_name, doc.line_of(loc), "", dotted(loc), message)


def _listed(display: str, problems: list[str]) -> str:
    count = len(problems)
    return f"{display}: {count} problem{'s' * (count != 1)} in the population scenarios:\n" + "\n".join(
        f"  {p}" for p in problems
    )
