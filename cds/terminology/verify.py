"""Codes checked against their sources: the ICD-10-CM tabular and the SNOMED CT IPS free set.

Slower than loading (the tabular takes about 2 s to read), so `cds rules check` and the tests run it,
not every process that loads the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cds.terminology.families import expand
from cds.terminology.icd10cm import Icd10CmTabular
from cds.terminology.lookup import Terminology

FREE_SET = Path("terminology") / "snomed-ips-free-set-problems.tsv"


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    """Codes that contradict their source: the rules should not ship so."""
    marks: list[str] = field(default_factory=list)
    """Codes no source here confirms, shipped with a status that says so."""


def read_free_set(path: Path) -> dict[str, str]:
    """code -> display of the IPS free set's problem list (one `code<TAB>display` a line)."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        code, _, display = line.partition("\t")
        if code.strip():
            found[code.strip()] = display.strip()
    return found


def verify(terminology: Terminology, rules_dir: Path) -> Verification:
    out = Verification()
    _verify_icd(terminology, out)
    free_set_path = rules_dir / FREE_SET
    if not free_set_path.is_file():
        out.problems.append(f"{FREE_SET}: the SNOMED CT IPS free set is missing; SNOMED codes not checked")
        return out
    _verify_snomed(terminology, read_free_set(free_set_path), out)
    return out


def _verify_icd(terminology: Terminology, out: Verification) -> None:
    icd = terminology.systems.uri("icd-10-cm")
    tabular = Icd10CmTabular()
    for where, entry in terminology.written_codes():
        code = terminology.systems.normalise(icd, entry.code)
        if entry.system == icd and not entry.descendants and not tabular.is_code(code):
            out.problems.append(f"{where}: ICD-10-CM {entry.code} is not in the tabular ({tabular.version})")
    for family in terminology.families.values():
        live = expand(family.code, family.exclude, tabular)
        if live.members != family.members:
            out.problems.append(
                f"ICD-10-CM family {family.code}: the recorded expansion differs from the tabular "
                f"({tabular.version}); run `cds rules expand`"
            )


def _verify_snomed(terminology: Terminology, free_set: dict[str, str], out: Verification) -> None:
    snomed = terminology.systems.uri("snomed")
    for where, entry in terminology.written_codes():
        if entry.system != snomed:
            continue
        shown = f"{where}: SNOMED {entry.code} {entry.display!r}"
        display = free_set.get(entry.code)
        if display is None:
            if entry.status == "confirmed" and entry.source in (None, "IPS"):
                out.problems.append(
                    f"{shown} is not in the IPS free set: name its source or mark it repo-only"
                )
            else:
                out.marks.append(
                    f"{shown}: not in the IPS free set ({entry.status}, source {entry.source or 'none'})"
                )
        elif display.lower() != entry.display.lower():
            out.problems.append(f"{shown}: the IPS free set calls it {display!r}")
