"""Hypothesis profiles: `fast` for every test run and CI, `thorough` for a nightly run, `http` for a
service driven over HTTP.

Failing examples are shrunk and saved in hypothesis's example database (`.hypothesis/` in the working
directory), so the next run replays them first, whichever profile it uses.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

FAST = "fast"
THOROUGH = "thorough"
HTTP = "http"
ENVIRONMENT_VARIABLE = "HYPOTHESIS_PROFILE"

_COMMON = settings(
    deadline=None,
    print_blob=True,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
)
"""Without deadlines: a first call that compiles or loads something must not count as a failure."""
FAST_EXAMPLES = 100
HTTP_EXAMPLES = 50
HTTP_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
"""For a service over HTTP, where each example is a round trip: fewer examples, shrinking bounded by
the harness (`HttpService(shrink_seconds=...)`), and no explain phase (it replays failures again)."""


def register_profiles() -> None:
    """Registering again is harmless: hypothesis keeps the last registration of a name."""
    settings.register_profile(FAST, _COMMON, max_examples=FAST_EXAMPLES)
    settings.register_profile(THOROUGH, _COMMON, max_examples=2000)
    settings.register_profile(HTTP, _COMMON, max_examples=HTTP_EXAMPLES, phases=HTTP_PHASES)


def load_profile(name: str | None = None, *, default: str = FAST) -> str:
    """Loads `name`, else the profile named by $HYPOTHESIS_PROFILE, else `default`; returns the name."""
    register_profiles()
    chosen = name or os.environ.get(ENVIRONMENT_VARIABLE) or default
    settings.load_profile(chosen)
    return chosen
