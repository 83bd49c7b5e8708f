"""`cds bench`: the benchmark of issue 5, one command; progress on stderr, the table on stdout.

The benchmark modules are imported when the command runs, so they add nothing to the start-up of the
other commands (`cds serve` among them, whose start-up the benchmark measures).
"""

from __future__ import annotations

from pathlib import Path

import click

from cds.cli.options import synthea_option

RESULT_FILE = "bench.json"


@click.command("bench")
@click.option("--quick", is_flag=True, help="A short smoke run: 10 and 100 resources, few requests.")
@click.option("--skip-http", is_flag=True, help="Only the in-process figures; do not start the service.")
@click.option(
    "--requests",
    type=click.IntRange(min=1),
    default=None,
    help="Requests per HTTP run up to 100 resources; fewer for larger bodies [default 2000; quick 50].",
)
@click.option(
    "--memory-requests",
    type=click.IntRange(min=2),
    default=None,
    help="Requests of the memory run, read after 1,000 and after this many [default 100000; quick 500].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help=f"Folder for {RESULT_FILE}.",
)
@click.option(
    "--profile",
    is_flag=True,
    help="Also profile in process: the 1000-resource case (pyinstrument) and each stage of a call at 10 "
    "and 1000 resources.",
)
@synthea_option("--data", "data")
def bench_command(
    quick: bool,
    skip_http: bool,
    requests: int | None,
    memory_requests: int | None,
    out_dir: Path,
    profile: bool,
    data: Path,
) -> None:
    """Measure evaluation in process (against json.loads and orjson.loads of the same bodies) and the
    real service over HTTP (`cds serve` with 1 and 2 workers: latency, throughput, start-up, memory).

    The machine should be otherwise idle: other work on it shows up in every figure.
    """
    from cds.bench.report import render_floor_table, render_table, write_json
    from cds.bench.run import BenchOptions, run_bench
    from cds.bench.stages import render_stages

    options = BenchOptions(
        data=data,
        quick=quick,
        skip_http=skip_http,
        requests=requests,
        memory_requests=memory_requests,
        profile=profile,
    )
    report = run_bench(options, lambda message: click.echo(message, err=True))
    path = out_dir / RESULT_FILE
    write_json(report, path)
    if report.profile:
        click.echo(f"Profile, in process, {report.profile}\n")
    for stages in report.stages:
        click.echo(render_stages(stages) + "\n")
    if report.floor:
        click.echo(render_floor_table(report) + "\n")
    click.echo(render_table(report))
    click.echo(f"\nFigures written to {path}")
