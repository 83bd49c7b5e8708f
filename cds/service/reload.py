"""Hot reload of the rules: a broken rules directory never replaces working rules.

A request takes `holder.acquire()` once at its start and keeps that snapshot to the end, so it sees
the old rules or the new ones, never a mix. The old engine is closed only when the last request
holding it has finished. Everything here runs on the worker's event loop thread, so the swap needs
no lock.

Each worker process reloads on its own SIGHUP; with several workers `cds serve`'s parent process
forwards the SIGHUP it receives to every worker (see `cds.service.server`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from cds.evaluation import Evaluator
from cds.rulebook import Rulebook, RulebookError, load_rulebook
from cds.service import metrics
from cds.service.discovery import discovery_json
from cds.service.logging import get_logger
from cds.service.templates import TEMPLATES

log = get_logger("reload")

T = TypeVar("T")


@dataclass(eq=False)
class ActiveRules:
    """One loaded rulebook with everything derived from it, built once per (re)load."""

    evaluator: Evaluator
    templates: Mapping[str, str]
    discovery: bytes
    rule_versions: Mapping[str, str]
    loaded_at: dt.datetime
    users: int = 0
    retired: bool = False

    @classmethod
    def build(cls, rulebook: Rulebook) -> ActiveRules:
        templates = dict(TEMPLATES)
        return cls(
            evaluator=Evaluator(rulebook),
            templates=templates,
            discovery=discovery_json(templates),
            rule_versions={rule.id: rule.version for rule in rulebook.rules},
            loaded_at=dt.datetime.now(dt.UTC),
        )

    @property
    def version(self) -> str:
        return self.evaluator.rulebook.version

    def release(self) -> None:
        self.users -= 1
        self._close_if_unused()

    def retire(self) -> None:
        self.retired = True
        self._close_if_unused()

    def _close_if_unused(self) -> None:
        if self.retired and self.users == 0:
            self.evaluator.engine.close()


@dataclass(frozen=True)
class ReloadResult:
    status: Literal["reloaded", "unchanged", "rejected"]
    rules_version: str
    """The version live after the attempt: the new one, or the old one kept."""
    problems: tuple[str, ...] = ()
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


class _InUse:
    """`with holder.acquire() as active`: the rules current on entry, kept from closing until exit (a
    class rather than a generator context manager: every call takes one)."""

    __slots__ = ("_active", "_holder")

    def __init__(self, holder: RulesHolder) -> None:
        self._holder = holder

    def __enter__(self) -> ActiveRules:
        active = self._active = self._holder.current
        active.users += 1
        return active

    def __exit__(self, *_: object) -> None:
        self._active.release()


class RulesHolder:
    def __init__(self, rules_dir: Path, active: ActiveRules) -> None:
        self.rules_dir = rules_dir
        self._active = active
        self.last_reload: ReloadResult | None = None
        metrics.rules_in_use(active.version)

    @classmethod
    def load(cls, rules_dir: Path) -> RulesHolder:
        """Raises RulebookError: at start-up there are no old rules to fall back on."""
        return cls(rules_dir, ActiveRules.build(load_rulebook(rules_dir)))

    @property
    def current(self) -> ActiveRules:
        return self._active

    def acquire(self) -> AbstractContextManager[ActiveRules]:
        return _InUse(self)

    def reload(self) -> ReloadResult:
        old = self._active
        outcome = validate_then_build(self.rules_dir, old.version, ActiveRules.build)
        if isinstance(outcome, ReloadResult):
            return self._record(outcome)
        self._active = outcome
        old.retire()
        metrics.rules_in_use(outcome.version, previous=old.version)
        return self._record(ReloadResult("reloaded", outcome.version))

    def _record(self, result: ReloadResult) -> ReloadResult:
        self.last_reload = result
        metrics.RELOADS.labels(result=result.status).inc()
        log_reload(result, "rules_reload", "rules")
        return result


def validate_then_build(directory: Path, current: str, build: Callable[[Rulebook], T]) -> T | ReloadResult:
    """What the rules in `directory` build into, or the result that keeps `current` live: unchanged, or
    rejected with every problem. Nothing live is touched here; the caller swaps."""
    try:
        rulebook = load_rulebook(directory)
        if rulebook.version == current:
            return ReloadResult("unchanged", current)
        return build(rulebook)
    except RulebookError as error:
        return ReloadResult("rejected", current, tuple(str(problem) for problem in error.problems))
    except Exception as error:
        log.exception("rules reload failed unexpectedly; the old rules stay live")
        return ReloadResult("rejected", current, (type(error).__name__,))


def log_reload(result: ReloadResult, event: str, what: str) -> None:
    fields = {"event": event, "status": result.status, "rules_version": result.rules_version}
    if result.status == "rejected":
        log.warning(
            f"{what} reload rejected; the old {what} stay live",
            extra={"fields": {**fields, "problems": list(result.problems)}},
        )
    else:
        log.info(f"{what} reload %s", result.status, extra={"fields": fields})


def reload_on_sighup(*reloads: Callable[[], object]) -> None:
    """Installs the SIGHUP handler on the running loop; the reloads (live rules, then the shadow
    candidate) run between requests, each validating before it swaps."""

    def reload_all() -> None:
        for reload in reloads:
            reload()

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_all)


def stop_reloading_on_sighup() -> None:
    asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
