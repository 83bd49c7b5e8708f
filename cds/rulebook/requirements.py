"""The data the rules read, as CDS Hooks prefetch templates: derived from the value sets, never retyped.

Observations are asked for by code (a chart holds thousands of irrelevant ones); Conditions are asked
for whole, because a benign fasciculation syndrome is recognised by its words, not a code.
"""

from __future__ import annotations

from cds.rulebook.model import Rulebook

OBSERVATION_KINDS = ("symptom", "red_flag", "lab", "assessment")
PATIENT = "{{context.patientId}}"


def observation_codes(rulebook: Rulebook) -> list[str]:
    terminology = rulebook.terminology
    tokens: dict[str, None] = {}
    for kind in OBSERVATION_KINDS:
        concepts = terminology.concepts.get(kind) or terminology.measured.get(kind) or {}
        for concept in concepts.values():
            for entry in concept.codes:
                if not entry.descendants and entry.system != terminology.systems.uri("icd-10-cm"):
                    tokens[f"{entry.system}|{entry.code}"] = None
    return list(tokens)


def prefetch_templates(rulebook: Rulebook) -> dict[str, str]:
    return {
        "patient": f"Patient/{PATIENT}",
        "conditions": f"Condition?patient={PATIENT}",
        "observations": f"Observation?patient={PATIENT}&code={','.join(observation_codes(rulebook))}",
        "medicationRequests": f"MedicationRequest?patient={PATIENT}&status=active",
        "medicationStatements": f"MedicationStatement?patient={PATIENT}&status=active",
    }


RESOURCE_TYPES = ("Patient", "Condition", "Observation", "MedicationRequest", "MedicationStatement")
