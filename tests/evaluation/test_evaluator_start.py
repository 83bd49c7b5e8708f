"""An Evaluator is ready for its first call when it is built."""

from cds.evaluation import Evaluator
from cds.facts.select import MODELS
from cds.fhir import flatschema
from cds.rulebook import Rulebook


def test_building_an_evaluator_builds_the_validators_of_the_resource_types_rules_read(
    rulebook: Rulebook,
) -> None:
    flatschema.flat_validator.cache_clear()
    Evaluator(rulebook).engine.close()
    before = flatschema.flat_validator.cache_info()
    for model in MODELS.values():
        assert flatschema.flat_validator(model) is not None
    after = flatschema.flat_validator.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (len(MODELS), 0)
