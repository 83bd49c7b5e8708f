"""`cds evaluate PATH`: the CDS Hooks response for a record, as the service would answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import orjson

from cds.cards.models import to_dict
from cds.cli.options import now_option, rules_option
from cds.evaluation import evaluate
from cds.explain import explain


@click.command("evaluate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--explain", "show_explanation", is_flag=True, help="Also show facts, rules fired and what was set aside."
)
@click.option(
    "--patient",
    "patient_id",
    default=None,
    help="Patient id to evaluate (default: the record's only patient).",
)
@now_option("Evaluation time, ISO 8601 (default: now). Time windows count back from it.")
@rules_option
def evaluate_command(
    path: Path,
    show_explanation: bool,
    patient_id: str | None,
    now: dt.datetime | None,
    rules_dir: Path | None,
) -> None:
    """Print the CDS Hooks response for PATH: a Bundle, a JSON list of resources, NDJSON, a prefetch
    object, or a folder of them (Bulk Data export)."""
    evaluation = evaluate(path, patient_id=patient_id, now=now, rules=rules_dir)
    if show_explanation:
        click.echo(explain(evaluation))
        click.echo("")
        click.echo("Response:")
    click.echo(orjson.dumps(to_dict(evaluation.response), option=orjson.OPT_INDENT_2).decode())
