"""Tools for testing CDS Hooks services, this one or any other, independent of how this one builds
its responses.

Importable without hypothesis: `checker` (responses, discovery documents, feedback and error bodies
against CDS Hooks 2.0, each violation citing its rule), `compare` (responses side by side, without
uuids), `reference` (the rule files evaluated in plain Python), `signing` (ES384 test JWTs),
`valuesets` (codes from FHIR ValueSets). With the `[testing]` extra: `strategies` (records),
`discovery` (reading a discovery document), `requests` (CDS Hooks calls, `from_discovery`),
`fhirserver` (a loopback FHIR server), `harness` (a running service over HTTP), `differential` (two
implementations, two rule sets, two services), `profiles` (fast, thorough and http), `library` (a
record through the library).
"""

from cds.testing.checker import assert_valid_cds_response, check_cds_response
from cds.testing.compare import (
    assert_same_cards,
    cited_references,
    comparable_cards,
    outline,
    rule_ids,
    top_indicator,
)
from cds.testing.reference import ReferenceEvaluator, ReferenceOutcome

__all__ = [
    "ReferenceEvaluator",
    "ReferenceOutcome",
    "assert_same_cards",
    "assert_valid_cds_response",
    "check_cds_response",
    "cited_references",
    "comparable_cards",
    "outline",
    "rule_ids",
    "top_indicator",
]
