"""`cds feedback report`: per rules version and rule, cards issued, accepted and overridden, and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import orjson

from cds.cards.render import OVERRIDE_SYSTEM
from cds.rulebook import Rulebook, load_rulebook
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
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Rules whose override reasons name the codes clients sent [CDS_RULES_DIR; default: shipped].",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rules version and rule version.")
def report_command(
    config_file: Path | None, data_dir: Path | None, rules_dir: Path | None, as_json: bool
) -> None:
    """Per rules version, rule and rule version: cards issued, feedback accepted and overridden, reasons.

    Every feedback entry is an event: a card accepted and later overridden counts once in each column.
    A rules version is the content hash of the rules, so a threshold change starts a new group even when
    no rule's own version changed. Reasons a client sent as code and system only get their display
    from the rules (--rules, default the service's rules directory).
    """
    settings = load_settings(config_file=config_file, data_dir=data_dir, rules_dir=rules_dir)
    path = settings.embedded_database
    if settings.database_url is None and not path.is_file():
        raise click.ClickException(
            f"no feedback store at {path}: has `cds serve --data-dir {settings.data_dir}` run?"
        )
    rulebook = load_rulebook(settings.rules_dir)
    store = open_store(settings.database)
    try:
        reports = [report.with_reason_displays(reason_displays(rulebook)) for report in store.report()]
    finally:
        store.close()
    if as_json:
        for report in reports:
            click.echo(orjson.dumps(report).decode())
    elif not reports:
        click.echo(f"No cards issued and no feedback yet in {store.database.describe()}.")
    else:
        click.echo("\n\n".join(_describe(group, rulebook.version) for group in _by_rules_version(reports)))


def reason_displays(rulebook: Rulebook) -> dict[tuple[str, str], str]:
    """The override reasons the rules offer on cards, by (system, code), as the cards carry them."""
    return {(OVERRIDE_SYSTEM, code): reason.display for code, reason in rulebook.override_reasons.items()}


def _by_rules_version(reports: list[RuleReport]) -> list[list[RuleReport]]:
    """Consecutive reports of one rules version; the store gives them in the order the versions were used."""
    groups: list[list[RuleReport]] = []
    for report in reports:
        if groups and groups[-1][0].rules_version == report.rules_version:
            groups[-1].append(report)
        else:
            groups.append([report])
    return groups


def _describe(group: list[RuleReport], current_version: str) -> str:
    head = group[0]
    if head.rule_id is None:
        return "\n".join(["Cards not issued by this service (unknown uuid)", *_counts(head, "  ")])
    firsts = [r.first_issued for r in group if r.first_issued is not None]
    lasts = [r.last_issued for r in group if r.last_issued is not None]
    span = ""
    if firsts and lasts:
        first, last = _moment(min(firsts)), _moment(max(lasts))
        span = f", cards issued {first}" if first == last else f", cards issued {first} to {last}"
    current = " (the rules now)" if head.rules_version == current_version else ""
    lines = [f"Rules version {head.rules_version}{current}{span}"]
    for report in group:
        lines.append(f"  {report.rule_id} (version {report.rule_version})")
        lines.extend(_counts(report, "    "))
    return "\n".join(lines)


def _counts(report: RuleReport, indent: str) -> list[str]:
    lines = [
        f"{indent}issued: {report.issued}   accepted: {report.accepted}   overridden: {report.overridden}"
    ]
    if report.override_reasons:
        lines.append(f"{indent}override reasons:")
        for reason in report.override_reasons:
            label = reason.display or reason.code or "(no reason given)"
            code = f" [{reason.system}|{reason.code}]" if reason.code else ""
            lines.append(f"{indent}  {reason.count:>5}  {label}{code}")
    return lines


def _moment(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
