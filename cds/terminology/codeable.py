"""Reading CodeableConcepts from raw resources without trusting their shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds.fhir import clean_text

Codings = list[tuple[str | None, str | None]]
MAPPING = (dict, Mapping)
"""For `isinstance`: what JSON parses into is a dict, told in C before Mapping's abstract-class check
(a fifth of its cost, and these checks run dozens of times a call)."""


def codings(concept: object) -> Codings:
    if concept is None or not isinstance(concept, MAPPING):
        return []
    found: Codings = []
    for coding in concept.get("coding") or []:
        if isinstance(coding, MAPPING):
            system, code = coding.get("system"), coding.get("code")
            found.append(
                (system if isinstance(system, str) else None, code if isinstance(code, str) else None)
            )
    return found


def concept_text(concept: object) -> str | None:
    """The words of a concept (text, else the first display), with zero-width characters removed."""
    if concept is None or not isinstance(concept, MAPPING):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return clean_text(text)
    for coding in concept.get("coding") or []:
        if isinstance(coding, MAPPING) and isinstance(coding.get("display"), str):
            return clean_text(coding["display"])
    return None


def all_words(concepts: Any) -> str:
    """Text and every display of one or several concepts, for word matching (body sites, severity)."""
    items = concepts if isinstance(concepts, list) else [concepts]
    words: list[str] = []
    for concept in items:
        if not isinstance(concept, MAPPING):
            continue
        if isinstance(concept.get("text"), str):
            words.append(clean_text(concept["text"]))
        for coding in concept.get("coding") or []:
            if isinstance(coding, MAPPING) and isinstance(coding.get("display"), str):
                words.append(clean_text(coding["display"]))
    return " ; ".join(words)


def status_code(concept: object) -> str | None:
    """clinicalStatus / verificationStatus code, e.g. 'active', 'refuted'. Most resources write no
    status: that answer costs no walk over codings."""
    if concept is None:
        return None
    for _, code in codings(concept):
        if code:
            return code
    return None
