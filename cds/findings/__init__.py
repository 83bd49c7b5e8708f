"""Rules applied to facts: which conclusions hold, on which facts, and which were held back and why."""

from cds.findings.decide import decide
from cds.findings.models import Decision, Finding, Match, Suppression

__all__ = ["Decision", "Finding", "Match", "Suppression", "decide"]
