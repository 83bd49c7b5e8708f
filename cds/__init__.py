"""Clinical decision support for muscle spasms: FHIR in, explained CDS Hooks cards out.

The library in a few names (the rest of the package is for the command line, the service and tests):

    import cds

    evaluation = cds.evaluate("record.json", now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    print(evaluation.response_json())

    evaluator = cds.Evaluator(cds.load_rulebook("my-rules"))  # many records: load the rules once
    for bundle in bundles:
        evaluator.evaluate(cds.read_input(bundle))

Every error raised for a user to act on is a `cds.CdsError` (the tree is in `cds.errors`).

The names are imported on first use, so `cds --version` and the service's worker processes, which
import `cds` first, do not pay for the rules engine and the FHIR models until they need them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cds.errors import CdsError, InputError
    from cds.evaluation import Evaluation, Evaluator, evaluate
    from cds.fhir import ReadResult, read_input, read_path
    from cds.rulebook import Rulebook, RulebookError, load_rulebook

__version__ = "0.1.0"

_HOMES = {
    "CdsError": "cds.errors",
    "Evaluation": "cds.evaluation",
    "Evaluator": "cds.evaluation",
    "InputError": "cds.errors",
    "ReadResult": "cds.fhir",
    "Rulebook": "cds.rulebook",
    "RulebookError": "cds.rulebook",
    "evaluate": "cds.evaluation",
    "load_rulebook": "cds.rulebook",
    "read_input": "cds.fhir",
    "read_path": "cds.fhir",
}

__all__ = [
    "CdsError",
    "Evaluation",
    "Evaluator",
    "InputError",
    "ReadResult",
    "Rulebook",
    "RulebookError",
    "__version__",
    "evaluate",
    "load_rulebook",
    "read_input",
    "read_path",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cds' has no attribute {name!r}")
    return getattr(import_module(home), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
