"""Evaluates a population under the current rules, and optionally a baseline, in parallel.

Work is handed to a standard executor: local worker processes (concurrent.futures) by default, or a
Dask cluster's executor given its scheduler address. Only a bounded number of batches is in flight at
any moment, so a population of any size streams through in bounded memory. The CPU time and memory
reported are the workers' own, wherever they run: on a cluster this process only hands out work.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import resource
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from cds.errors import CdsError
from cds.frozen import Frozen
from cds.rulebook.diff import RulesDiff
from cds.workbench.population import PatientInput, Population
from cds.workbench.snapshot import RulesSnapshot, evaluator_for, rules_diff
from cds.workbench.tally import ChangeStats, PatientChange, RulesetStats, Tally
from cds.workbench.worker import PatientOutcome, evaluate_batch

BATCH_PATIENTS = 64
BATCH_BYTES = 4 * 2**20
"""Dask warns about task arguments of several MB; a batch of big Bundles is cut earlier."""
BATCHES_PER_SLOT = 3
CONNECT_SECONDS = 10.0
_NETWORK_SCHEMES = ("tcp", "tls")
"""Addresses with a host and port; `inproc://` (a cluster inside this process) has neither."""


class RunStats(Frozen):
    execution: str
    seconds: float
    first_patient_seconds: float
    """Until the population gave its first patient: the grouping pass of a Bulk Data export."""
    patients_per_second: float
    peak_rss_mb: float
    """This process (reading, grouping, counting)."""
    peak_worker_rss_mb: float | None
    """The largest worker process, local or on the cluster; None when the workers run in this process."""
    cpu_seconds: float
    """This process and its workers (on a loaded machine this too grows, as cores are shared)."""
    main_cpu_seconds: float
    """The part spent here: reading, grouping, handing out batches and counting."""


class BacktestReport(Frozen):
    population: str
    population_kind: str
    now: dt.datetime
    patients: int
    not_evaluated: int
    not_evaluated_examples: list[str]
    notes: list[str]
    current: RulesetStats
    baseline: RulesetStats | None
    rules_diff: RulesDiff | None
    """From the baseline to the current rules: the same diff `cds rules diff` and the shadow report show."""
    changes: ChangeStats | None
    changes_file: str | None
    run: RunStats


class ClusterError(CdsError):
    """The Dask scheduler given cannot be used: a malformed address, nothing listening, or no answer."""


@dataclass
class WorkerUsage:
    """What the workers spent, known once the executor is closed."""

    cpu_seconds: float = 0.0
    peak_rss_mb: float | None = None


@dataclass(frozen=True)
class Execution:
    """Where batches run: `workers` local processes, or the Dask cluster at `scheduler`."""

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    scheduler: str | None = None

    @contextmanager
    def open(self) -> Iterator[tuple[Executor, int, str, WorkerUsage]]:
        """The executor, how many batches it runs at once, its description, and the workers' usage.

        Raises ClusterError before any work when the scheduler cannot be reached.
        """
        usage = WorkerUsage()
        if self.scheduler is not None:
            with _dask_client(self.scheduler) as client:
                slots = max(1, sum(client.nthreads().values()))
                before = _cluster_usage(client)
                yield (
                    client.get_executor(pure=False),
                    slots,
                    f"Dask cluster at {self.scheduler} ({_plural(slots, 'thread')})",
                    usage,
                )
                after = _cluster_usage(client)
            usage.cpu_seconds = sum(
                cpu - before.get(worker, (0.0, 0.0))[0] for worker, (cpu, _) in after.items()
            )
            usage.peak_rss_mb = max((rss for _, rss in after.values()), default=None)
            return
        children_cpu = _cpu_seconds()[1]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            yield pool, self.workers, f"{_plural(self.workers, 'local worker process', 'es')}", usage
        usage.cpu_seconds = _cpu_seconds()[1] - children_cpu
        usage.peak_rss_mb = _peak_rss_mb(resource.RUSAGE_CHILDREN)


@contextmanager
def _dask_client(address: str) -> Iterator[Any]:
    """A client of the scheduler at `address`, or one line saying why there is none, in seconds."""
    from distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port

    where = f"the Dask scheduler {address!r}"
    scheme, location = parse_address(address)
    if scheme in _NETWORK_SCHEMES:
        try:
            host, port = parse_host_port(location)
        except ValueError as error:
            raise ClusterError(f"{where} is not an address such as tcp://host:8786 ({error})") from None
        try:  # a plain connect first: the client would retry a refused connection until its timeout
            socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
        except OSError as error:
            raise ClusterError(f"{where} cannot be reached ({error.strerror or error})") from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS)  # type: ignore[no-untyped-call]
    except ValueError as error:
        raise ClusterError(f"{where} is not a scheduler address ({error})") from None
    except OSError as error:
        raise ClusterError(f"{where} does not answer as a Dask scheduler ({error})") from None
    with client:
        yield client


def _cluster_usage(client: Any) -> dict[str, tuple[float, float]]:
    """CPU seconds and peak MB of each worker process; workers in this process are counted here."""
    usage: dict[str, tuple[int, float, float]] = client.run(_process_usage)
    return {worker: (cpu, rss) for worker, (pid, cpu, rss) in usage.items() if pid != os.getpid()}


def _process_usage() -> tuple[int, float, float]:
    """Runs on a Dask worker: its pid, CPU seconds so far and peak memory in MB."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return os.getpid(), usage.ru_utime + usage.ru_stime, round(usage.ru_maxrss / 1024, 1)


@dataclass(frozen=True)
class RuleSources:
    current: RulesSnapshot
    current_dir: str
    baseline: RulesSnapshot | None = None
    baseline_dir: str | None = None


def run_backtest(
    population: Population,
    rules: RuleSources,
    *,
    now: dt.datetime,
    execution: Execution,
    on_change: Callable[[PatientChange], None] | None = None,
    changes_file: str | None = None,
    progress: bool = False,
) -> BacktestReport:
    """Raises RulebookError when a rule set does not load (checked here before any work is sent)."""
    current = evaluator_for(rules.current).rulebook
    baseline = evaluator_for(rules.baseline).rulebook if rules.baseline else None
    snapshots = (rules.current,) if rules.baseline is None else (rules.current, rules.baseline)
    tally = Tally(len(snapshots), on_change)
    started = time.perf_counter()
    cpu_started = _cpu_seconds()[0]
    first: list[float] = []
    with execution.open() as (executor, slots, description, workers):
        bar = tqdm(total=population.expected_patients, unit=" patients", disable=not progress, smoothing=0.1)
        pending: dict[Future[list[PatientOutcome]], int] = {}
        for batch in _batches(population, first, started):
            pending[executor.submit(evaluate_batch, batch, snapshots, now)] = len(batch)
            if len(pending) >= slots * BATCHES_PER_SLOT:
                _absorb(pending, tally, bar, FIRST_COMPLETED)
        _absorb(pending, tally, bar, "ALL_COMPLETED")
        bar.close()
    seconds = time.perf_counter() - started
    main_cpu = _cpu_seconds()[0] - cpu_started
    return BacktestReport(
        population=str(population.path),
        population_kind=population.description,
        now=now,
        patients=tally.patients,
        not_evaluated=tally.errors,
        not_evaluated_examples=tally.error_examples,
        notes=population.notes,
        current=tally.ruleset(0, current, rules.current_dir),
        baseline=tally.ruleset(1, baseline, rules.baseline_dir or "") if baseline else None,
        rules_diff=rules_diff(rules.baseline, rules.current) if rules.baseline else None,
        changes=tally.changes(current, baseline) if baseline else None,
        changes_file=changes_file if baseline else None,
        run=RunStats(
            execution=description,
            seconds=round(seconds, 2),
            first_patient_seconds=round(first[0] if first else seconds, 2),
            patients_per_second=round(tally.patients / seconds, 1) if seconds else 0.0,
            peak_rss_mb=_peak_rss_mb(resource.RUSAGE_SELF),
            peak_worker_rss_mb=workers.peak_rss_mb,
            cpu_seconds=round(main_cpu + workers.cpu_seconds, 2),
            main_cpu_seconds=round(main_cpu, 2),
        ),
    )


def _batches(
    patients: Iterable[PatientInput], first: list[float], started: float
) -> Iterator[list[PatientInput]]:
    batch: list[PatientInput] = []
    size = 0
    for patient in patients:
        if not first:
            first.append(time.perf_counter() - started)
        batch.append(patient)
        size += len(patient.data)
        if len(batch) >= BATCH_PATIENTS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _absorb(pending: dict[Future[list[PatientOutcome]], int], tally: Tally, bar: tqdm, until: str) -> None:
    done, _ = wait(pending, return_when=until)
    for future in done:
        for outcome in future.result():
            tally.add(outcome)
        bar.update(pending.pop(future))


def _plural(count: int, noun: str, suffix: str = "s") -> str:
    return f"{count} {noun}{suffix if count != 1 else ''}"


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and of its finished child processes."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return usage[0].ru_utime + usage[0].ru_stime, usage[1].ru_utime + usage[1].ru_stime


def _peak_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)
