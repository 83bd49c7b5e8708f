"""Code systems as data: every spelling of a system read as one, and codes compared in one form.

Real data writes SNOMED CT by URI or OID, ICD codes with or without the dot, and WHO ICD-10 where it
means ICD-10-CM. All of that is `rules/terminology/systems.yaml`; this module only applies it, so a
new alias is a YAML edit, not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from cds.frozen import Frozen

CodeForm = Literal["as-written", "icd"]
SYSTEMS_CONTEXT = "code_systems"


class SystemSpec(Frozen):
    uri: str = Field(min_length=1)
    label: str = Field(min_length=1)
    codes: CodeForm = "as-written"
    aliases: list[str] = []
    hierarchy: Literal["icd-10-cm-tabular"] | None = None
    """Where `descendants: true` is expanded from; a system without one lists its members."""


class ReadAs(Frozen):
    """Codes of another system read as the same codes of one of ours (only those listed)."""

    uri: str = Field(min_length=1)
    label: str = Field(min_length=1)
    aliases: list[str] = []
    system: str
    codes: list[str] = Field(min_length=1)


class SystemsFile(Frozen):
    kind: Literal["code_systems"]
    systems: dict[str, SystemSpec]
    read_as: list[ReadAs] = []

    @model_validator(mode="after")
    def _one_meaning_per_spelling(self) -> SystemsFile:
        seen: dict[str, str] = {}
        spellings = [(name, s.uri, s.aliases) for name, s in self.systems.items()]
        spellings += [(f"read_as {r.label}", r.uri, r.aliases) for r in self.read_as]
        for owner, uri, aliases in spellings:
            for spelling in [uri, *aliases]:
                if spelling in seen:
                    raise ValueError(f"{spelling!r} is listed for both {seen[spelling]} and {owner}")
                seen[spelling] = owner
        for entry in self.read_as:
            if entry.system not in self.systems:
                raise ValueError(
                    f"read_as {entry.label}: unknown system {entry.system!r} "
                    f"(expected one of: {', '.join(self.systems)})"
                )
        return self


@dataclass(frozen=True, slots=True)
class Coded:
    """A code in its canonical system and form: what every look-up compares."""

    system: str
    code: str


def normalise(form: CodeForm, code: str) -> str:
    code = code.strip()
    if form == "icd":
        bare = code.replace(".", "").upper()
        return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare
    return code


class CodeSystems:
    """Answers "which system is this, and which code?" for any spelling the data may use."""

    def __init__(self, spec: SystemsFile) -> None:
        self.names: dict[str, str] = {name: s.uri for name, s in spec.systems.items()}
        self._form: dict[str, CodeForm] = {s.uri: s.codes for s in spec.systems.values()}
        self._hierarchy = {s.uri: s.hierarchy for s in spec.systems.values() if s.hierarchy}
        self._labels: dict[str, str] = {}
        self._canonical: dict[str, str] = {}
        for system in spec.systems.values():
            for spelling in [system.uri, *system.aliases]:
                self._canonical[spelling] = system.uri
                self._labels[spelling] = system.label
        self._read_as: dict[str, tuple[str, frozenset[str]]] = {}
        for entry in spec.read_as:
            target = spec.systems[entry.system]
            codes = frozenset(normalise(target.codes, c) for c in entry.codes)
            for spelling in [entry.uri, *entry.aliases]:
                self._read_as[spelling] = (target.uri, codes)
                self._labels[spelling] = entry.label

    def uri(self, name: str) -> str:
        """The URI a rule file means by `name` (a short name or a canonical URI); ValueError names the
        choices."""
        if name in self.names:
            return self.names[name]
        if name in self._form:
            return name
        raise ValueError(f"unknown code system {name!r}; expected one of {', '.join(self.names)}")

    def canonical(self, system: str | None, code: str | None) -> Coded | None:
        """The code as our systems know it, or None when the system is not ours (or the code is not
        one another system shares with ours)."""
        if not system or not code:
            return None
        uri = self._canonical.get(system)
        if uri is not None:
            return Coded(uri, normalise(self._form[uri], code))
        shared = self._read_as.get(system)
        if shared is None:
            return None
        target, codes = shared
        normal = normalise(self._form[target], code)
        return Coded(target, normal) if normal in codes else None

    def normalise(self, uri: str, code: str) -> str:
        """`code` in the form its (canonical) system compares codes."""
        return normalise(self._form.get(uri, "as-written"), code)

    def hierarchy(self, uri: str) -> str | None:
        """The name of the hierarchy a (canonical) system's families are expanded from, if any."""
        return self._hierarchy.get(uri)

    def label(self, system: str) -> str:
        """'SNOMED' for any spelling of SNOMED CT; an unknown system is shown as written."""
        return self._labels.get(system, system)


def system_uri(value: str, info: ValidationInfo) -> str:
    """A `system:` field checked against the code systems the rules directory defines, passed as
    validation context (`{SYSTEMS_CONTEXT: CodeSystems}`) because they are data, not constants."""
    systems = (info.context or {}).get(SYSTEMS_CONTEXT)
    if not isinstance(systems, CodeSystems):
        raise TypeError(f"validating a code needs context {{{SYSTEMS_CONTEXT!r}: CodeSystems}}")
    return systems.uri(value)
