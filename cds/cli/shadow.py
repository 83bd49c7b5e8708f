"""`cds shadow report`: what the candidate rules the service shadows would do to its real calls."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import orjson

from cds.cli.feedback import data_dir_options, reason_displays
from cds.cli.options import require_extra
from cds.rulebook import load_rulebook
from cds.service.settings import load_settings
from cds.shadow.report import ShadowReport, describe_report, live_card_uuids, shadow_report
from cds.store import open_store


@click.group("shadow")
def shadow_group() -> None:
    """Candidate rules run in shadow by `cds serve --shadow-rules DIR`."""


@shadow_group.command("report")
@data_dir_options
@click.option(
    "--database-url",
    default=None,
    help="Database, postgresql://user@host/db [CDS_DATABASE_URL; default SQLite in the data dir].",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Only calls from this UTC date or time on (e.g. 2026-11-25).",
)
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@click.option(
    "--html",
    "html_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write DIR/shadow-report.html (tables and a chart; needs the workbench extra).",
)
def report_command(
    config_file: Path | None,
    data_dir: Path | None,
    database_url: str | None,
    since: dt.datetime | None,
    as_json: bool,
    html_dir: Path | None,
) -> None:
    """Both rules versions and what differs between them; per rule, live and candidate cards and the calls
    where they differ; how the most urgent card per call would move; what clinicians did with the live
    cards the candidate would remove (accepted, overridden and why, no feedback); the cards it would add.

    Override reasons a client sent as code only are named from the live rules [CDS_RULES_DIR]."""
    if html_dir is not None:
        require_extra("workbench", "matplotlib")
    settings = load_settings(config_file=config_file, data_dir=data_dir, database_url=database_url)
    if settings.database_url is None and not settings.embedded_database.is_file():
        raise click.ClickException(
            f"no store at {settings.embedded_database}: has `cds serve --data-dir {settings.data_dir}` run?"
        )
    moment = since.replace(tzinfo=dt.UTC) if since is not None else None
    store = open_store(settings.database)
    try:
        records = store.shadow_calls(since=moment)
        report = shadow_report(
            records,
            store.shadow_pairs(),
            store.feedback_on(live_card_uuids(records)),
            since=moment,
            reason_displays=reason_displays(load_rulebook(settings.rules_dir)),
        )
    finally:
        store.close()
    click.echo(
        orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode()
        if as_json
        else describe_report(report)
    )
    if html_dir is not None:
        click.echo(f"HTML report: {_write_html(report, html_dir)}", err=as_json)


def _write_html(report: ShadowReport, directory: Path) -> Path:
    from cds.shadow.page import html_page

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "shadow-report.html"
    path.write_text(html_page(report), encoding="utf-8")
    return path
