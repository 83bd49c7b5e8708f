"""The one exception this package raises for input a user has to fix."""


class InputError(ValueError):
    """Input that cannot be read at all; the message names the place (file, line, column or key)."""
