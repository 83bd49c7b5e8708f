"""The informaticist's workbench: `cds rules test`, `cds backtest` and `cds population make`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from cds.cli.options import now_option, require_extra, rules_option, synthea_option
from cds.evaluation import Evaluator
from cds.rulebook import load_rulebook


@click.command("test")
@click.argument("cases_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@rules_option
@click.option("-k", "select", default=None, help="Run only the cases whose name contains these words.")
@click.option(
    "--explain", "explain_all", is_flag=True, help="Explain passing cases too (failures always are)."
)
def test_command(
    cases_dir: Path | None, rules_dir: Path | None, select: str | None, explain_all: bool
) -> None:
    """Run the rule test cases in CASES_DIR (default: the tests/ folder of the rules directory).

    Exit status: 0 when every case passes, 1 when a case fails or a case file is invalid, 2 when the
    rules themselves do not load.
    """
    from cds.workbench.cases import load_cases
    from cds.workbench.report import case_report
    from cds.workbench.runner import run_cases

    rulebook = load_rulebook(rules_dir)
    directory = cases_dir if cases_dir is not None else rulebook.directory / "tests"
    suite = load_cases(directory, rulebook, now=dt.datetime.now(dt.UTC))
    cases = [c for c in suite.cases if select is None or select.lower() in c.name.lower()]
    if select is not None and not cases:
        raise click.ClickException(f"no case name contains {select!r}")
    results = run_cases(cases, Evaluator(rulebook))
    click.echo(case_report(results, suite.problems, rulebook, source=str(directory), explain_all=explain_all))
    if suite.problems or not all(result.passed for result in results):
        raise SystemExit(1)


@click.command("backtest")
@click.argument("population", type=click.Path(exists=True, path_type=Path))
@rules_option
@click.option(
    "--baseline",
    "baseline_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Rules directory to compare with, e.g. a copy of the rules before the change.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Local worker processes [default: CPUs]."
)
@click.option("--scheduler", default=None, help="Run on the Dask cluster at this address (tcp://host:8786).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("backtest-report"),
    show_default=True,
    help="Folder for report.json, report.html, card-rates.png and changes.csv.",
)
@now_option("Evaluation time, ISO 8601 [default: the export's time, else now].")
@click.option("--progress/--no-progress", default=None, help="Progress bar [default: on a terminal].")
def backtest_command(
    population: Path,
    rules_dir: Path | None,
    baseline_dir: Path | None,
    workers: int | None,
    scheduler: str | None,
    out_dir: Path,
    now: dt.datetime | None,
    progress: bool | None,
) -> None:
    """Evaluate every patient of POPULATION and count the cards per rule; with --baseline, compare two
    rule sets and list the patients whose cards change.

    POPULATION is a folder of patient Bundles (*.json, *.json.gz) or a FHIR Bulk Data export (NDJSON per
    resource type, optionally with manifest.json).
    """
    require_extra("workbench", "tqdm", "matplotlib", *(("distributed",) if scheduler else ()))
    import sys
    import tempfile

    from cds.rulebook.loader import DEFAULT_RULES_DIR
    from cds.workbench.backtest import Execution, RuleSources, run_backtest
    from cds.workbench.changes import SortedChanges
    from cds.workbench.charts import card_rate_png, html_page
    from cds.workbench.impact import impact_text
    from cds.workbench.population import open_population
    from cds.workbench.snapshot import RulesSnapshot, evaluator_for

    if workers is not None and scheduler is not None:
        raise click.UsageError("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    patients = open_population(population)
    sources = RuleSources(
        current=RulesSnapshot.take(rules_dir),
        current_dir=str(rules_dir or DEFAULT_RULES_DIR),
        baseline=RulesSnapshot.take(baseline_dir) if baseline_dir else None,
        baseline_dir=str(baseline_dir) if baseline_dir else None,
    )
    for snapshot in (sources.current, sources.baseline):
        if snapshot is not None:
            evaluator_for(snapshot)
    moment = now or patients.now or dt.datetime.now(dt.UTC)
    execution = Execution(scheduler=scheduler) if scheduler else Execution()
    if workers is not None:
        execution = Execution(workers=workers)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}-", dir=out_dir.parent) as staging:
        staged = Path(staging)
        with SortedChanges(staged / "changes.csv") as changes:
            report = run_backtest(
                patients,
                sources,
                now=moment,
                execution=execution,
                on_change=changes.add,
                changes_file=str(out_dir / "changes.csv"),
                progress=sys.stderr.isatty() if progress is None else progress,
            )
        if sources.baseline is None:
            (staged / "changes.csv").unlink()
            (out_dir / "changes.csv").unlink(missing_ok=True)
        png = card_rate_png(report)
        (staged / "report.json").write_text(report.model_dump_json(indent=2))
        (staged / "card-rates.png").write_bytes(png)
        (staged / "report.html").write_text(html_page(report, png))
        out_dir.mkdir(exist_ok=True)
        for file in staged.iterdir():
            file.replace(out_dir / file.name)
    click.echo(impact_text(report))
    click.echo(f"\nWrote {out_dir}/report.json, report.html and card-rates.png")


@click.group("population")
def population_group() -> None:
    """Make synthetic populations for back-tests."""


@population_group.command("make")
@click.option("--patients", type=click.IntRange(min=1), required=True, help="How many patients to write.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="New or empty folder."
)
@click.option(
    "--spasm-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.1,
    show_default=True,
    help="Exact share of patients given spasm findings (cramps, fasciculations, red flags, labs).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same population.")
@synthea_option("--source", "source")
@now_option("The export's transactionTime, ISO 8601 [default: today].")
@click.option(
    "--history-days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep only lab and assessment results of the last N days (N beyond every time window).",
)
@rules_option
@click.option(
    "--scenarios",
    "scenarios_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML file of spasm-finding scenarios [default: populations/scenarios.yaml of the rules, "
    "else the shipped one].",
)
def make_command(
    patients: int,
    out: Path,
    spasm_share: float,
    seed: int,
    source: Path,
    now: dt.datetime | None,
    history_days: int | None,
    rules_dir: Path | None,
    scenarios_file: Path | None,
) -> None:
    """Write a FHIR Bulk Data export of copies of Synthea patients with fresh ids, dates moved to the
    present, and spasm findings in an exact share of them, drawn from the scenarios file."""
    require_extra("workbench", "tqdm")
    import sys

    from cds.workbench.generator import PopulationSpec, make_population
    from cds.workbench.scenarios import load_scenarios, scenarios_path

    moment = now or dt.datetime.combine(dt.date.today(), dt.time(), tzinfo=dt.UTC)
    spec = PopulationSpec(
        source=source,
        out=out,
        patients=patients,
        spasm_share=spasm_share,
        seed=seed,
        now=moment,
        history_days=history_days,
    )
    if not spec.source.is_dir():
        raise click.ClickException(f"{spec.source}: no such folder of Synthea Bundles; give --source")
    rulebook = load_rulebook(rules_dir)
    scenarios = load_scenarios(scenarios_path(rulebook, scenarios_file), rulebook)
    summary = make_population(spec, rulebook, scenarios, progress=sys.stderr.isatty())
    click.echo(
        f"Wrote {summary.patients:,} patients copied from {summary.templates} Synthea patients to {out} "
        f"(FHIR Bulk Data export, transactionTime {moment.isoformat()})"
    )
    click.echo(
        f"Spasm findings ({summary.scenarios_file}): {summary.patients_with_spasm_findings:,} patients "
        f"({spasm_share:.1%}): " + ", ".join(f"{name} {count:,}" for name, count in summary.scenarios.items())
    )
    click.echo("Resources: " + ", ".join(f"{name} {count:,}" for name, count in summary.resources.items()))
    click.echo(f"Kept: {summary.kept}")
