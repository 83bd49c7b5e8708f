"""ICD-10-CM codes "with descendants": a family expanded from the tabular, minus what an author excludes.

The expansions of the shipped families are data (`rules/terminology/icd-10-cm-expansions.yaml`), so
loading stays fast and a reviewer sees every code a family brings in; a family not found there (an
author just wrote it) is expanded live from the tabular, and `cds rules check` says to record it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml

from cds.frozen import Frozen
from cds.terminology.icd10cm import Icd10CmTabular
from cds.terminology.schema import Text

FamilyKey = tuple[str, tuple[str, ...]]


class ExpansionMember(Frozen):
    code: Text
    display: Text


class Expansion(Frozen):
    code: Text
    exclude: list[Text] = []
    members: list[ExpansionMember]


class ExpansionsFile(Frozen):
    kind: Literal["icd_10_cm_expansions"]
    tabular: Text
    families: list[Expansion] = []


@dataclass(frozen=True, slots=True)
class Family:
    code: str
    exclude: tuple[str, ...]
    members: tuple[ExpansionMember, ...]
    """The code itself first, then every descendant not excluded (an excluded code takes its own
    descendants with it)."""
    tabular: str

    @property
    def key(self) -> FamilyKey:
        return family_key(self.code, self.exclude)


def family_key(code: str, exclude: list[str] | tuple[str, ...]) -> FamilyKey:
    return code, tuple(sorted(exclude))


class FamilyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def expand(code: str, exclude: list[str] | tuple[str, ...], tabular: Icd10CmTabular) -> Family:
    """The family of `code` in the tabular; FamilyError names the field (`code`, `exclude.N`) at fault."""
    if not tabular.is_code(code):
        raise FamilyError("code", f"{code} is not an ICD-10-CM code in the tabular ({tabular.version})")
    below = tabular.descendants(code)
    if not below:
        raise FamilyError("code", f"{code} has no descendants in the ICD-10-CM tabular; list it without them")
    removed: set[str] = set()
    for index, child in enumerate(exclude):
        if child not in below:
            raise FamilyError(
                f"exclude.{index}",
                f"{child} is not below {code} in the ICD-10-CM tabular (below: {', '.join(below)})",
            )
        removed |= {child, *tabular.descendants(child)}
    members = [
        ExpansionMember(code=c, display=tabular.display(c)) for c in [code, *below] if c not in removed
    ]
    return Family(code, tuple(sorted(exclude)), tuple(members), tabular.version)


def recorded(spec: ExpansionsFile) -> dict[FamilyKey, Family]:
    return {
        family_key(e.code, e.exclude): Family(
            e.code, tuple(sorted(e.exclude)), tuple(e.members), spec.tabular
        )
        for e in spec.families
    }


HEADER = """\
# ICD-10-CM families of the value sets ("with descendants"), expanded from the official tabular.
# Written by `cds rules expand`; `cds rules check` compares it with the tabular. Do not edit by hand:
# change the family in valuesets/ (its code or `exclude`) and run `cds rules expand`.
"""


def expansions_yaml(families: list[Family], tabular: str) -> str:
    data = {
        "kind": "icd_10_cm_expansions",
        "tabular": tabular,
        "families": [
            {
                "code": f.code,
                "exclude": list(f.exclude),
                "members": [{"code": m.code, "display": m.display} for m in f.members],
            }
            for f in sorted(families, key=lambda f: f.key)
        ],
    }
    return HEADER + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None
    )
