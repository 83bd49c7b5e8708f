"""Where the time of an in-process evaluation goes: pyinstrument's call tree, as shares of the total.

Only the tree is kept: pyinstrument's flat view lumps collapsed library frames into "[self]" of the
caller's file, which misleads more than it tells. Time spent freeing a request's objects after the call
shows up as the profiling loop's own time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from cds.bench.inprocess import BodyHandler
from cds.bench.workload import BenchError

INTERVAL_S = 0.0005


class ProfileResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    resources: int
    calls: int
    tree: str


def _top(text: str, lines: int) -> str:
    """The first lines of a pyinstrument report, without its banner (which ends at "Profile at ...")."""
    kept = [line for line in text.splitlines() if line.strip()]
    start = next((i + 1 for i, line in enumerate(kept) if line.startswith("Profile at")), 0)
    return "\n".join(kept[start : start + lines])


def profile_handler(
    handler: BodyHandler, bodies: Sequence[bytes], resources: int, *, seconds: float, lines: int = 45
) -> ProfileResult:
    """Profiles rounds over the bodies for about `seconds`; keeps the first `lines` lines of the tree."""
    try:
        from pyinstrument import Profiler
        from pyinstrument.renderers import ConsoleRenderer
    except ImportError:
        raise BenchError("--profile needs pyinstrument: pip install 'spasm-cds[bench]'") from None
    for body in bodies:
        handler(body)
    profiler = Profiler(interval=INTERVAL_S)
    calls = 0
    deadline = time.perf_counter() + seconds
    profiler.start()
    while calls == 0 or time.perf_counter() < deadline:
        for body in bodies:
            handler(body)
            calls += 1
    profiler.stop()
    tree = profiler.output(ConsoleRenderer(unicode=False, color=False, time="percent_of_total"))
    return ProfileResult(resources=resources, calls=calls, tree=_top(tree, lines))
