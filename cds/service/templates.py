"""The prefetch keys and the query behind each: the one home of what the service asks an EHR for.

Whatever `cds evaluate` would use, the service must receive. The rules recognise an Observation by any
code of any system they know, written in any spelling of that system (URI or OID), by an ICD-10-CM
family member, or by its words when no code is recognised; a code list in the query cannot say all of
that (a FHIR server matches `system|code` exactly), so Observations and Conditions are asked for
whole, and the fact layer passes over the rest at the cost of one look-up per coding. Medications are
asked for by status: only active ones count.
"""

from __future__ import annotations

REQUIRED_KEYS = ("patient", "conditions", "observations")
OPTIONAL_KEYS = ("medicationRequests", "medicationStatements")
PATIENT = "{{context.patientId}}"

TEMPLATES: dict[str, str] = {
    "patient": f"Patient/{PATIENT}",
    "conditions": f"Condition?patient={PATIENT}",
    "observations": f"Observation?patient={PATIENT}",
    "medicationRequests": f"MedicationRequest?patient={PATIENT}&status=active",
    "medicationStatements": f"MedicationStatement?patient={PATIENT}&status=active",
}
"""The same for every rulebook: what is asked for depends on what the rules can recognise, and that is
every Condition and Observation of the patient."""
