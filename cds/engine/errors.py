"""The one exception the engine raises for anything a caller can fix: a bad ruleset or bad facts."""


class EngineError(Exception):
    """A ruleset or a batch of facts that the engine refuses; the message names the rule key or fact id."""
