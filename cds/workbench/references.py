"""Parameter references in rule test cases: a case that tests a rule's logic names the threshold it
tests, so a threshold change in a copy of the rules does not break it.

    reference := "$" NAME [("plus" | "minus") NUMBER]  |  "just below $" NAME  |  "just above $" NAME

NAME is a parameter of the rulebook under test (`parameters.yaml`) and NUMBER is in its unit. "Just
below" and "just above" are one step in the last decimal place the value is written with (1.7 gives 1.6
and 1.8, 1.12 gives 1.11, 6 gives 5 and 7). Words rather than signs, so `range LOW-HIGH` stays
unambiguous. In a record line a reference stands for a number; the unit written after it must be the
parameter's (`$persistent_after_weeks weeks ago`, the parameter being in wk), and when none is written the
parameter's unit is used. In `card contains`, `card lacks` and `set aside` a reference is replaced by the
value as a card prints it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from cds.rulebook.files import Parameter, Scalar
from cds.rulebook.model import Rulebook
from cds.workbench.phrases import RecordItem

REFERENCE = re.compile(
    r"(?:\bjust\s+(?P<side>below|above)\s+)?\$(?P<name>\w+)"
    r"(?:\s+(?P<op>plus|minus)\s+(?P<offset>\d+(?:\.\d+)?))?",
    re.IGNORECASE,
)
TIME_UNITS = {"d": "day", "wk": "week", "mo": "month", "a": "year"}
"""UCUM units of time, as a record line's TIME writes them ("5 days ago")."""
_TIME_WORD_NEXT = re.compile(r"\s+(?P<word>day|week|month|year)s?\s+ago\b", re.IGNORECASE)
_TIME_NEXT = re.compile(r"\s+(?:\d+\s+(?:day|week|month|year)s?\s+ago|today|on\s+\d{4}-\d{2}-\d{2})\b", re.I)
MEASURED_FIELDS = {"lab": "analyte", "assessment": "instrument"}
_UNIT_NEXT = re.compile(r"\s+(?P<unit>[A-Za-z{\[%][^\s,]*)")


class ParameterReferenceError(ValueError):
    """Says what was written and what was expected; the caller adds file, line and field."""


@dataclass(frozen=True, slots=True)
class ParameterUse:
    """A parameter a case depends on, named in its failure message with the current value."""

    name: str
    value: Scalar
    unit: str | None
    written: str
    """The reference as written (`just below $magnesium_low_mg_dl`), or the literal value compared with
    the parameter (`magnesium 1.6 mg/dL`) when the case wrote a number."""
    resolved: str | None = None
    """The number the reference stood for; None for a literal."""

    def __str__(self) -> str:
        current = f"{self.name} = {self.value}" + (f" {self.unit}" if self.unit else "")
        if self.resolved is not None:
            plain = self.written == f"${self.name}"
            return current if plain else f"{current} ({self.written!r} is {self.resolved})"
        return f"{current}, compared with the literal {self.written!r} (write ${self.name} to test the logic)"


def _decimal(value: Scalar) -> Decimal:
    return Decimal(str(value))


def _step(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    return Decimal(1).scaleb(exponent) if isinstance(exponent, int) and exponent < 0 else Decimal(1)


class ParameterReferences:
    """Resolves references against one rulebook's parameters."""

    def __init__(self, rulebook: Rulebook) -> None:
        self._parameters: Mapping[str, Parameter] = rulebook.parameters
        self._thresholds = _threshold_parameters(rulebook)

    def _known(self, name: str) -> Parameter:
        parameter = self._parameters.get(name)
        if parameter is None:
            known = ", ".join(sorted(self._parameters))
            raise ParameterReferenceError(f"unknown parameter ${name} (parameters: {known})")
        return parameter

    def _number(self, found: re.Match[str]) -> tuple[Parameter, str]:
        name = found.group("name")
        parameter = self._known(name)
        value = parameter.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterReferenceError(f"${name} is {value!r}, not a number")
        number = _decimal(value)
        side, op = found.group("side"), found.group("op")
        if side and op:
            raise ParameterReferenceError(
                f"{found.group(0)!r}: write 'just {side.lower()} ${name}' or "
                f"'${name} {op.lower()} N', not both"
            )
        if side:
            number += _step(number) if side.lower() == "above" else -_step(number)
        elif op:
            offset = Decimal(found.group("offset"))
            number += offset if op.lower() == "plus" else -offset
        return parameter, format(number, "f")

    def line(self, line: str) -> tuple[str, tuple[ParameterUse, ...]]:
        """A record line with each reference replaced by its number, its unit checked or added."""
        uses: list[ParameterUse] = []
        out: list[str] = []
        position = 0
        for found in REFERENCE.finditer(line):
            parameter, number = self._number(found)
            name = found.group("name")
            part_end = line.find(",", found.end())
            following = line[found.end() : part_end if part_end >= 0 else len(line)]
            out += [line[position : found.start()], number + self._unit(name, parameter, following)]
            position = found.end()
            uses.append(ParameterUse(name, parameter.value, parameter.unit, found.group(0), number))
        return "".join([*out, line[position:]]), tuple(uses)

    @staticmethod
    def _unit(name: str, parameter: Parameter, following: str) -> str:
        """What to add after the number: the parameter's unit when the line writes none."""
        unit = parameter.unit
        time_word = _TIME_WORD_NEXT.match(following)
        if time_word:
            word = time_word.group("word").lower()
            if unit not in TIME_UNITS or TIME_UNITS[unit] != word:
                shown = f"in {unit}" if unit else "a plain number"
                raise ParameterReferenceError(f"${name} is {shown}, not a number of {word}s")
            return ""
        if unit is None:
            return ""
        if unit in TIME_UNITS:
            raise ParameterReferenceError(
                f"${name} is a time in {unit}: write it as '${name} {TIME_UNITS[unit]}s ago'"
            )
        written = _UNIT_NEXT.match(following)
        if written and not _TIME_NEXT.match(following):
            if written.group("unit") != unit:
                raise ParameterReferenceError(
                    f"${name} is in {unit}; the line writes {written.group('unit')!r} after it "
                    "(write the parameter's unit, or none)"
                )
            return ""
        return "" if unit.startswith("{") else f" {unit}"

    def text(self, text: str) -> tuple[str, tuple[ParameterUse, ...]]:
        """Words of an expectation with each reference replaced by the value as a card prints it."""
        uses: list[ParameterUse] = []

        def replace(found: re.Match[str]) -> str:
            name = found.group("name")
            parameter = self._known(name)
            plain = not (found.group("side") or found.group("op"))
            shown = str(parameter.value) if plain else self._number(found)[1]
            uses.append(ParameterUse(name, parameter.value, parameter.unit, found.group(0), shown))
            return shown

        return REFERENCE.sub(replace, text), tuple(uses)

    def compared(self, item: RecordItem) -> tuple[ParameterUse, ...]:
        """The thresholds a value written as a number is compared with (`magnesium 1.6 mg/dL`)."""
        if item.value is None:
            return ()
        written = " ".join(w for w in (item.term.label, f"{item.value:g}", item.unit) if w)
        return tuple(
            ParameterUse(name, self._parameters[name].value, self._parameters[name].unit, written)
            for name in self._thresholds.get((item.term.kind, item.term.concept), ())
            if name in self._parameters
        )


def _threshold_parameters(rulebook: Rulebook) -> dict[tuple[str, str], tuple[str, ...]]:
    """(lab or assessment, name) -> the parameters rules compare its value with."""
    found: dict[tuple[str, str], dict[str, None]] = {}
    for rule in rulebook.rules:
        when = rule.spec.when
        for pattern in [*when.all, *when.any, *when.unless, *when.context]:
            key_field = MEASURED_FIELDS.get(pattern.fact)
            named = pattern.where.get(key_field) if key_field else None
            names = named if isinstance(named, list) else [named] if isinstance(named, str) else []
            bounds = [
                bound[1:]
                for test in pattern.where.values()
                if isinstance(test, dict)
                for bound in test.values()
                if isinstance(bound, str) and bound.startswith("$")
            ]
            for name in names:
                for bound in bounds:
                    found.setdefault((pattern.fact, str(name)), {})[bound] = None
    return {key: tuple(names) for key, names in found.items()}
