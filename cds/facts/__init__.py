"""Clinical facts: FHIR resources turned into typed, unit-normalised statements the rules match on.

`cds.facts.models` is the contract with the rule files; `cds.facts.extract` builds the facts.
"""
