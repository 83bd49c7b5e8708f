"""Hypothesis profiles: `fast` for every test run and CI, `thorough` for a nightly run.

Failing examples are shrunk and saved in hypothesis's example database (`.hypothesis/` in the working
directory), so the next run replays them first, whichever profile it uses.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FAST = "fast"
THOROUGH = "thorough"
ENVIRONMENT_VARIABLE = "HYPOTHESIS_PROFILE"

_COMMON = settings(
    deadline=None,
    print_blob=True,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
)
"""Without deadlines: a first call that compiles or loads something must not count as a failure."""


def register_profiles() -> None:
    """Registering again is harmless: hypothesis keeps the last registration of a name."""
    settings.register_profile(FAST, _COMMON, max_examples=100)
    settings.register_profile(THOROUGH, _COMMON, max_examples=2000)


def load_profile(name: str | None = None) -> str:
    """Loads `name`, else the profile named by $HYPOTHESIS_PROFILE, else `fast`; returns the name loaded."""
    register_profiles()
    chosen = name or os.environ.get(ENVIRONMENT_VARIABLE) or FAST
    settings.load_profile(chosen)
    return chosen
