"""`cds feedback report`: for each rule, how often its cards were issued, accepted and overridden, and why."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from cds.service.settings import Settings, load_settings
from cds.store import RuleReport, open_store


def data_dir_options(function: click.decorators.FC) -> click.decorators.FC:
    function = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The service's data directory [CDS_DATA_DIR; default ./var].",
    )(function)
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The YAML settings file the service runs with [CDS_CONFIG].",
    )(function)


def resolve_settings(config_file: Path | None, data_dir: Path | None) -> Settings:
    return load_settings(config_file=config_file, data_dir=data_dir)


@click.group("feedback")
def feedback_group() -> None:
    """What clinicians did with the cards (stored by the service's feedback endpoint)."""


@feedback_group.command("report")
@data_dir_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rule version instead of text.")
def report_command(config_file: Path | None, data_dir: Path | None, as_json: bool) -> None:
    """Per rule and rule version: cards issued, feedback events accepted and overridden, override reasons.

    Every feedback entry is an event: a card accepted and later overridden counts once in each column.
    """
    settings = resolve_settings(config_file, data_dir)
    path = settings.embedded_database
    if settings.database_url is None and not path.is_file():
        raise click.ClickException(
            f"no feedback store at {path}: has `cds serve --data-dir {settings.data_dir}` run?"
        )
    store = open_store(settings.database)
    try:
        reports = store.report()
    finally:
        store.close()
    if as_json:
        for report in reports:
            click.echo(orjson.dumps(report).decode())
    elif not reports:
        click.echo(f"No cards issued and no feedback yet in {store.database.describe()}.")
    else:
        click.echo("\n\n".join(_describe(report) for report in reports))


def _describe(report: RuleReport) -> str:
    title = (
        f"{report.rule_id} (version {report.rule_version})"
        if report.rule_id is not None
        else "Cards not issued by this service (unknown uuid)"
    )
    lines = [
        title,
        f"  issued: {report.issued}   accepted: {report.accepted}   overridden: {report.overridden}",
    ]
    if report.override_reasons:
        lines.append("  override reasons:")
        for reason in report.override_reasons:
            label = reason.display or reason.code or "(no reason given)"
            code = f" [{reason.system}|{reason.code}]" if reason.code else ""
            lines.append(f"    {reason.count:>5}  {label}{code}")
    return "\n".join(lines)
