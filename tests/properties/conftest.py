"""What the properties compare the product with: the rule space, the reference evaluator, a second engine."""

from __future__ import annotations

import pytest

from cds.evaluation import Evaluator
from cds.rulebook import Rulebook
from cds.testing.reference import ReferenceEvaluator
from cds.testing.space import RuleSpace, load_space


@pytest.fixture(scope="session")
def space(rulebook: Rulebook) -> RuleSpace:
    return load_space(rulebook.directory)


@pytest.fixture(scope="session")
def reference(rulebook: Rulebook) -> ReferenceEvaluator:
    return ReferenceEvaluator(rulebook.directory)


@pytest.fixture(scope="session")
def second_evaluator(rulebook: Rulebook) -> Evaluator:
    """A second engine over the same rules, as a second worker process would hold."""
    return Evaluator(rulebook)
