"""Reading FHIR input: any supported shape in, raw resources with provenance out, validated on demand."""

from cds.errors import InputError
from cds.fhir.corehooks import INSTALLED as FAST_CORE_HOOKS
from cds.fhir.decode import FhirText
from cds.fhir.jsonparse import MAX_DEPTH, parse_json_bytes
from cds.fhir.patient import PatientMatcher, check_in_input, patient_ids
from cds.fhir.raw import RawResource, ReadResult, SourceNote
from cds.fhir.source import Reader, parse_hook_call, read_input, read_path, read_prefetch
from cds.fhir.text import clean_text
from cds.fhir.validation import ValidationIssue, prepare_validator, validate_resource
from cds.fhir.versions import latest_versions

__all__ = [
    "FAST_CORE_HOOKS",
    "MAX_DEPTH",
    "FhirText",
    "InputError",
    "PatientMatcher",
    "RawResource",
    "ReadResult",
    "Reader",
    "SourceNote",
    "ValidationIssue",
    "check_in_input",
    "clean_text",
    "latest_versions",
    "parse_hook_call",
    "parse_json_bytes",
    "patient_ids",
    "prepare_validator",
    "read_input",
    "read_path",
    "read_prefetch",
    "validate_resource",
]
