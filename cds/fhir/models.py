"""The fhir.resources R4B models, imported only here, inside `cds.fhir`, after fhir_core's hooks are in place.

pydantic binds a model's validators when its class is built; `cds.fhir` installs the fast ones
(`corehooks`) before anything it imports builds a model, and every other module takes its models from
here, so no entry point (library, command line, service workers, shadow candidates, tests) can build
one first.
"""

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.resource import Resource

__all__ = [
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Resource",
    "get_fhir_model_class",
]
