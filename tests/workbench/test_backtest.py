"""The back-test runs the same on local worker processes and on a Dask cluster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cds.rulebook import Rulebook
from cds.workbench.backtest import Execution, RuleSources, run_backtest
from cds.workbench.impact import impact_text
from cds.workbench.population import open_population
from cds.workbench.snapshot import RulesSnapshot, evaluator_for
from cds.workbench.tally import RulesetStats, Tally
from cds.workbench.worker import evaluate_batch

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def _sources() -> RuleSources:
    return RuleSources(current=RulesSnapshot.take(None), current_dir="rules")


@pytest.fixture(scope="module")
def in_process(population: Path, rulebook: Rulebook) -> RulesetStats:
    """The counts of the population evaluated here, in one batch, without any executor."""
    tally = Tally(1)
    for outcome in evaluate_batch(list(open_population(population)), (_sources().current,), NOW):
        tally.add(outcome)
    return tally.ruleset(0, rulebook, "rules")


@pytest.mark.slow
def test_local_workers_count_what_one_process_counts(population: Path, in_process: RulesetStats) -> None:
    report = run_backtest(open_population(population), _sources(), now=NOW, execution=Execution(workers=1))
    assert report.current == in_process
    assert report.patients == 300 and report.current.patients_with_cards > 50
    assert report.run.peak_worker_rss_mb is not None and report.run.cpu_seconds > 0


@pytest.mark.slow
def test_a_dask_cluster_counts_what_one_process_counts(population: Path, in_process: RulesetStats) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        execution = Execution(scheduler=cluster.scheduler_address)
        report = run_backtest(open_population(population), _sources(), now=NOW, execution=execution)
    assert report.current == in_process
    assert report.run.execution.startswith("Dask cluster at ")


def test_a_snapshot_evaluates_under_the_same_rules_version_as_its_directory(rulebook: Rulebook) -> None:
    assert evaluator_for(RulesSnapshot.take(rulebook.directory)).rulebook.version == rulebook.version


@pytest.mark.slow
def test_on_dask_the_run_reports_the_workers_cpu_and_memory(population: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        execution = Execution(scheduler=cluster.scheduler_address)
        report = run_backtest(open_population(population), _sources(), now=NOW, execution=execution)
    run = report.run
    assert run.peak_worker_rss_mb is not None and run.peak_worker_rss_mb > 50
    assert run.cpu_seconds - run.main_cpu_seconds > run.main_cpu_seconds  # the patients ran on the worker
    assert f"largest worker {run.peak_worker_rss_mb:.0f} MB" in impact_text(report)
