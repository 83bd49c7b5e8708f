"""Tools for testing CDS Hooks services, independent of how this service builds its responses.

Importable without hypothesis: `checker` (is a response valid CDS Hooks 2.0?), `compare` (responses
side by side, without uuids), `reference` (the rule files evaluated in plain Python). With the
`[testing]` extra: `strategies` (hypothesis strategies for records and calls), `requests` (CDS Hooks
calls), `profiles` (the fast and thorough hypothesis profiles), `library` (a record through the library).
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
