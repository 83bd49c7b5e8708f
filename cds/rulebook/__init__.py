"""Rule files: loaded, validated and compiled for the engine; every problem names file, line and field."""

from cds.rulebook.loader import DEFAULT_RULES_DIR, load_rulebook
from cds.rulebook.model import Alternative, Rule, Rulebook
from cds.rulebook.problems import Problem, RulebookError

__all__ = [
    "DEFAULT_RULES_DIR",
    "Alternative",
    "Problem",
    "Rule",
    "Rulebook",
    "RulebookError",
    "load_rulebook",
]
