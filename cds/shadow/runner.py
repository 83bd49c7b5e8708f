"""Shadow mode in one worker: which calls are shadowed, the candidate's lifecycle, one record per call.

The endpoint offers a job once the live answer has been sent (`offer` never blocks: a full queue is a
skip, counted). The worker thread hands the call to the candidate's process, waits for its cards, and
stores the record; nothing it does can fail a live call. The candidate reloads with the live rules
(SIGHUP, `cds reload`), validated before it replaces the old one, so a broken candidate is refused and
the one before keeps shadowing.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from cds.rulebook import Rulebook
from cds.rulebook.diff import diff_rulebooks
from cds.service import metrics
from cds.service.background import BoundedWorker
from cds.service.logging import get_logger
from cds.service.reload import ReloadResult, log_reload, validate_then_build
from cds.shadow.candidate import CandidateCall, CandidateFailed, CandidateProcess
from cds.shadow.compare import differs
from cds.shadow.job import ShadowJob
from cds.store import ShadowPair, ShadowRecord, Store

IDLE_WAIT_SECONDS = 1.0
"""Longest a shadow step waits for a moment when no live call is being answered; then it goes anyway."""
SKIP_REASONS = ("queue_full", "crash", "timeout", "error", "retired")
STOP_SECONDS = 5.0

log = get_logger("shadow")


class LiveCalls:
    """Hook calls being answered in this worker. The shadow's own Python work (encoding the resources,
    storing the record) holds the GIL; done while a live call is answered, it would delay it, so each
    step waits for a moment when none is. Under constant load the queue fills and calls are skipped."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                if self._count == 0:
                    self._idle.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._count == 0, timeout)


class Shadow:
    def __init__(
        self,
        directory: Path,
        candidate: Rulebook,
        store: Store,
        *,
        sample: float,
        capacity: int,
        timeout: float,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.directory = directory
        self.timeout = timeout
        self.last_reload: ReloadResult | None = None
        self._candidate = CandidateProcess(candidate, timeout=timeout)
        self._store = store
        self._sample = sample
        self._draw = draw
        self._pairs: set[tuple[str, str]] = set()
        self._live = LiveCalls()
        self._worker: BoundedWorker[ShadowJob] = BoundedWorker("shadow", self._handle, capacity)
        for reason in SKIP_REASONS:
            metrics.SHADOW_SKIPPED.labels(reason=reason)
        for result in ("reloaded", "unchanged", "rejected"):
            metrics.SHADOW_RELOADS.labels(result=result)
        metrics.shadow_rules_in_use(candidate.version)

    @property
    def version(self) -> str:
        return self._candidate.version

    @property
    def candidate(self) -> CandidateProcess:
        return self._candidate

    def start(self) -> None:
        self._candidate.start()
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop(STOP_SECONDS)
        self._candidate.retire()

    def answering(self) -> AbstractContextManager[None]:
        """Wraps the answer to a live call: shadow work waits while any is in progress."""
        return self._live.answering()

    def sampled(self) -> bool:
        return self._sample >= 1.0 or self._draw() < self._sample

    def offer(self, job: ShadowJob) -> None:
        if not self._worker.offer(job):
            metrics.SHADOW_SKIPPED.labels(reason="queue_full").inc()

    def wait_idle(self, timeout: float) -> bool:
        """For tests and shutdown: True once every job offered so far is recorded or skipped."""
        return self._worker.wait_idle(timeout)

    def reload(self) -> ReloadResult:
        old = self._candidate
        outcome = validate_then_build(
            self.directory, old.version, lambda rulebook: CandidateProcess(rulebook, timeout=self.timeout)
        )
        if isinstance(outcome, CandidateProcess):
            outcome.start()
            self._candidate = outcome
            old.retire()
            metrics.shadow_rules_in_use(outcome.version, previous=old.version)
            outcome = ReloadResult("reloaded", outcome.version)
        self.last_reload = outcome
        metrics.SHADOW_RELOADS.labels(result=outcome.status).inc()
        log_reload(outcome, "shadow_rules_reload", "shadow rules")
        return outcome

    def _handle(self, job: ShadowJob) -> None:
        candidate = self._candidate
        self._live.wait_idle(IDLE_WAIT_SECONDS)
        call = CandidateCall.of(job.read, job.patient_id, job.called_at)
        try:
            cards = candidate.evaluate(call)
        except CandidateFailed as failure:
            metrics.SHADOW_SKIPPED.labels(reason=failure.reason).inc()
            fields = {"event": "shadow_failed", "reason": failure.reason, "hook_instance": job.hook_instance}
            log.warning("shadow evaluation failed: %s", failure, extra={"fields": fields})
            return
        self._live.wait_idle(IDLE_WAIT_SECONDS)
        self._remember_pair(job.live, candidate.rulebook)
        record = ShadowRecord(
            called_at=job.called_at,
            service=job.service,
            hook_instance=job.hook_instance,
            live_rules_version=job.live.version,
            candidate_rules_version=candidate.version,
            live_cards=job.live_cards,
            candidate_cards=cards,
        )
        self._store.record_shadow(record)
        metrics.SHADOW_EVALUATIONS.inc()
        if differs(record):
            metrics.SHADOW_DIFFERENCES.inc()

    def _remember_pair(self, live: Rulebook, candidate: Rulebook) -> None:
        """Once per pair and process: the report must say what changed after both rule sets are gone."""
        key = (live.version, candidate.version)
        if key in self._pairs:
            return
        diff = diff_rulebooks(live, candidate).to_json()
        self._store.record_shadow_pair(ShadowPair(*key, diff, dt.datetime.now(dt.UTC)))
        self._pairs.add(key)
