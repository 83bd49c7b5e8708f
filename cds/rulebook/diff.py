"""What differs between two loaded rule sets, each difference with its old and new value.

One answer for every place a rule change is reviewed (`cds rules diff`, the shadow report, the
back-test report), so a committee reads the same change the same way wherever it meets it. Pure: it
reads two `Rulebook`s and touches nothing else.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from cds.frozen import Frozen
from cds.rulebook.catalogue import parameters_of
from cds.rulebook.files import Scalar
from cds.rulebook.model import Rule, Rulebook

Change = Literal["added", "removed", "changed"]

CARD_FIELDS = (
    "indicator",
    "summary",
    "detail",
    "in_context",
    "suggestions",
    "selection",
    "override_reasons",
    "links",
)
"""The parts of a card a clinician sees, in the order a reviewer reads them."""


def _change(old: object, new: object) -> Change:
    return "added" if old is None else "removed" if new is None else "changed"


class ParameterChange(Frozen):
    name: str
    old: Scalar | None
    new: Scalar | None
    old_unit: str | None
    new_unit: str | None
    used_by: tuple[str, ...]
    """Rules whose conditions or card name the parameter (in either rule set); none: the fact layer."""

    @property
    def change(self) -> Change:
        return _change(self.old, self.new)


class CodeState(Frozen):
    display: str
    status: str


class CodeChange(Frozen):
    concept: str
    """Kind and concept name, e.g. `lab magnesium`, `medication diuretic`, `ingredient furosemide`,
    `order neurology_referral`."""
    system: str
    code: str
    old: CodeState | None
    new: CodeState | None

    @property
    def change(self) -> Change:
        return _change(self.old, self.new)


class RuleChange(Frozen):
    rule_id: str
    old_version: str | None
    new_version: str | None
    parts: tuple[str, ...] = ()
    """Top-level parts of the rule file that differ (`when`, `card`, `title`, `implements`)."""

    @property
    def change(self) -> Change:
        return _change(self.old_version, self.new_version)

    @property
    def version_not_bumped(self) -> bool:
        """Changed content under the same version: feedback before and after would be counted together."""
        return self.change == "changed" and self.old_version == self.new_version


class CardChange(Frozen):
    rule_id: str
    field: str
    old: Any
    new: Any


class RulesDiff(Frozen):
    old_version: str
    new_version: str
    old_directory: str
    new_directory: str
    parameters: tuple[ParameterChange, ...]
    codes: tuple[CodeChange, ...]
    rules: tuple[RuleChange, ...]
    cards: tuple[CardChange, ...]

    @property
    def identical(self) -> bool:
        return self.old_version == self.new_version

    def to_json(self) -> dict[str, Any]:
        """The diff as JSON, each change with its kind (`added`, `removed`, `changed`) spelled out."""
        data = self.model_dump(mode="json")
        for key in ("parameters", "codes", "rules"):
            for entry, change in zip(data[key], getattr(self, key), strict=True):
                entry["change"] = change.change
        for entry, rule in zip(data["rules"], self.rules, strict=True):
            entry["version_not_bumped"] = rule.version_not_bumped
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RulesDiff:
        """Reads `to_json` back (what it derives is derived again), e.g. from the shadow store."""
        derived = {"change", "version_not_bumped"}
        plain = {
            key: [{k: v for k, v in entry.items() if k not in derived} for entry in value]
            if isinstance(value, list)
            else value
            for key, value in data.items()
        }
        return cls.model_validate(plain)


def diff_rulebooks(old: Rulebook, new: Rulebook) -> RulesDiff:
    return RulesDiff(
        old_version=old.version,
        new_version=new.version,
        old_directory=str(old.directory),
        new_directory=str(new.directory),
        parameters=tuple(_parameters(old, new)),
        codes=tuple(_codes(old, new)),
        rules=tuple(_rules(old, new)),
        cards=tuple(_cards(old, new)),
    )


def _parameters(old: Rulebook, new: Rulebook) -> Iterator[ParameterChange]:
    users: dict[str, set[str]] = {}
    for rule in [*old.rules, *new.rules]:
        for name in parameters_of(rule):
            users.setdefault(name, set()).add(rule.id)
    for name in _union(old.parameters, new.parameters):
        before, after = old.parameters.get(name), new.parameters.get(name)
        if (
            before is not None
            and after is not None
            and (before.value, before.unit) == (after.value, after.unit)
        ):
            continue
        yield ParameterChange(
            name=name,
            old=before.value if before else None,
            new=after.value if after else None,
            old_unit=before.unit if before else None,
            new_unit=after.unit if after else None,
            used_by=tuple(sorted(users.get(name, ()))),
        )


def _code_table(rulebook: Rulebook) -> dict[tuple[str, str, str], CodeState]:
    terminology = rulebook.terminology
    table = {
        (concept, entry.system, entry.code): CodeState(display=entry.display, status=entry.status)
        for concept, entry in terminology.written_codes()
    }
    atc = terminology.systems.uri("atc")
    for name, cls in terminology.medication_classes.items():
        for code in cls.atc:
            table[(f"medication {name}", atc, code.code)] = CodeState(
                display=code.display, status=code.status
            )
    rxnorm = terminology.systems.uri("rxnorm")
    for name, ingredient in terminology.medication_ingredients.items():
        for entry in ingredient.rxnorm:
            table[(f"ingredient {name}", rxnorm, entry.code)] = CodeState(
                display=entry.display, status=entry.status
            )
    for name, order in rulebook.orders.items():
        if order.code is not None:
            state = CodeState(display=order.code.display, status=order.code.status)
            table[(f"order {name}", order.code.system, order.code.code)] = state
    return table


def _codes(old: Rulebook, new: Rulebook) -> Iterator[CodeChange]:
    before, after = _code_table(old), _code_table(new)
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if was != now:
            concept, system, code = key
            yield CodeChange(concept=concept, system=system, code=code, old=was, new=now)


def _rules(old: Rulebook, new: Rulebook) -> Iterator[RuleChange]:
    before, after = _by_id(old.rules), _by_id(new.rules)
    for rule_id in _union(before, after):
        was, now = before.get(rule_id), after.get(rule_id)
        if was is not None and now is not None:
            old_spec, new_spec = (
                was.spec.model_dump(exclude={"version"}),
                now.spec.model_dump(exclude={"version"}),
            )
            parts = tuple(part for part in old_spec if old_spec[part] != new_spec[part])
            if not parts and was.version == now.version:
                continue
        else:
            parts = ()
        yield RuleChange(
            rule_id=rule_id,
            old_version=was.version if was else None,
            new_version=now.version if now else None,
            parts=parts,
        )


def _cards(old: Rulebook, new: Rulebook) -> Iterator[CardChange]:
    """Only rules in both sets: an added or removed rule's whole card is new or gone."""
    before, after = _by_id(old.rules), _by_id(new.rules)
    for rule_id in _union(before, after):
        was, now = before.get(rule_id), after.get(rule_id)
        if was is None or now is None:
            continue
        for field in CARD_FIELDS:
            old_value, new_value = _card_field(was, field), _card_field(now, field)
            if old_value != new_value:
                yield CardChange(rule_id=rule_id, field=field, old=old_value, new=new_value)


def _card_field(rule: Rule, field: str) -> Any:
    """The indicator as resolved (a `$parameter` change shows as the severity it gives)."""
    if field == "indicator":
        return rule.indicator
    return rule.spec.card.model_dump(mode="json")[field]


def _by_id(rules: Iterable[Rule]) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """Names of the first set in its order, then those only in the second."""
    return list(dict.fromkeys([*first, *second]))


# --- in words -------------------------------------------------------------------------------------

MARK = {"added": "+", "removed": "-", "changed": "~"}


def _scalar(value: Scalar | None, unit: str | None) -> str:
    return "(none)" if value is None else f"{value} {unit}" if unit else str(value)


def _code_state(state: CodeState | None) -> str:
    return "(none)" if state is None else f'"{state.display}" [{state.status}]'


def _field_lines(change: CardChange) -> list[str]:
    if isinstance(change.old, str) and isinstance(change.new, str) and "\n" not in change.old + change.new:
        return [f"  {change.rule_id} card.{change.field}: {change.old!r} -> {change.new!r}"]
    old_lines, new_lines = _text_lines(change.old), _text_lines(change.new)
    delta = [
        f"      {line}"
        for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=0)
        if not line.startswith(("---", "+++", "@@"))
    ]
    return [f"  {change.rule_id} card.{change.field}:", *delta]


def _text_lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.splitlines()
    items = value if isinstance(value, list) else [value]
    return [json.dumps(item, sort_keys=True) for item in items]


def describe(diff: RulesDiff) -> str:
    """The diff as a reviewer reads it: both versions, then each kind of change with old -> new."""
    lines = [
        f"Rules {diff.old_version} ({diff.old_directory}) -> {diff.new_version} ({diff.new_directory})",
    ]
    if diff.identical:
        return "\n".join([*lines, "No difference: the two rule sets have the same rules version."])
    lines.append(f"Parameters ({len(diff.parameters)}):" if diff.parameters else "Parameters: no change")
    for p in diff.parameters:
        used = f" (used by {', '.join(p.used_by)})" if p.used_by else " (fact layer)"
        lines.append(
            f"  {MARK[p.change]} {p.name}: {_scalar(p.old, p.old_unit)} -> {_scalar(p.new, p.new_unit)}{used}"
        )
    lines.append(f"Codes ({len(diff.codes)}):" if diff.codes else "Codes: no change")
    for c in diff.codes:
        states = f"{_code_state(c.old)} -> {_code_state(c.new)}"
        lines.append(f"  {MARK[c.change]} {c.concept}: {c.system} {c.code} {states}")
    lines.append(f"Rules ({len(diff.rules)}):" if diff.rules else "Rules: no change")
    for r in diff.rules:
        versions = f"{r.old_version or '(none)'} -> {r.new_version or '(none)'}"
        parts = f": {', '.join(r.parts)} changed" if r.parts else ""
        warn = " (content changed, version not bumped)" if r.version_not_bumped else ""
        lines.append(f"  {MARK[r.change]} {r.rule_id} {versions}{parts}{warn}")
    lines.append(f"Cards ({len(diff.cards)}):" if diff.cards else "Cards: no change")
    for change in diff.cards:
        lines += _field_lines(change)
    return "\n".join(lines)
