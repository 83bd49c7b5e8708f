"""Terminology: code systems and their spellings, value sets, and the one look-up facts ask.

Below the fact layer and beside the rulebook: the rulebook reads `rules/` and builds a `Terminology`;
the fact layer asks it "which concept is this?". Nothing here knows about facts or rules.
"""

from cds.terminology.lookup import ConceptMatch, MedicationMatch, Terminology
from cds.terminology.systems import Coded, CodeSystems, SystemsFile

__all__ = ["CodeSystems", "Coded", "ConceptMatch", "MedicationMatch", "SystemsFile", "Terminology"]
