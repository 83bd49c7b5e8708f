"""The rules engine: compiled rules in, activations out; the only package that touches durable-rules."""

from cds.engine.patterns import Activation, CompiledRule, Pattern, Scalar, Test
from cds.engine.runner import Engine
from cds.errors import EngineError

__all__ = ["Activation", "CompiledRule", "Engine", "EngineError", "Pattern", "Scalar", "Test"]
