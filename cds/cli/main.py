"""`cds`: evaluate records, check and list rules, serve the CDS Hooks service."""

from __future__ import annotations

import click

from cds.cli.evaluate import evaluate_command
from cds.cli.rules import rules_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spasm-cds")
def cli() -> None:
    """Muscle-spasm clinical decision support: FHIR in, explained CDS Hooks cards out."""


cli.add_command(evaluate_command)
cli.add_command(rules_group)


def main() -> None:
    cli()
