"""Code systems the rule files may use, by the short names informaticists write."""

from __future__ import annotations

SYSTEMS: dict[str, str] = {
    "snomed": "http://snomed.info/sct",
    "icd-10-cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "loinc": "http://loinc.org",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "atc": "http://www.whocc.no/atc",
    "ucum": "http://unitsofmeasure.org",
}
URIS: frozenset[str] = frozenset(SYSTEMS.values())
ICD10CM = SYSTEMS["icd-10-cm"]


def system_uri(name: str) -> str:
    """Accepts a short name or the FHIR URI itself; raises ValueError naming the choices."""
    if name in SYSTEMS:
        return SYSTEMS[name]
    if name in URIS:
        return name
    raise ValueError(f"unknown code system {name!r}; expected one of {', '.join(SYSTEMS)}")


def normalise_code(system: str, code: str) -> str:
    """ICD-10-CM arrives with and without the dot (R25.2, R252); compare both the same way."""
    code = code.strip()
    if system == ICD10CM:
        return code.replace(".", "").upper()
    return code
