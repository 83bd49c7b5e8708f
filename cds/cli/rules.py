"""`cds rules check` and `cds rules list`: what an informaticist runs after editing a rule file."""

from __future__ import annotations

from pathlib import Path

import click

from cds.cli.workbench import test_command
from cds.rulebook import load_rulebook
from cds.rulebook.catalogue import catalogue


@click.group("rules")
def rules_group() -> None:
    """Check, list and test the rule files."""


@rules_group.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def check_command(directory: Path | None) -> None:
    """Validate every rule, value-set and parameter file in DIRECTORY (default: the shipped rules/)."""
    rulebook = load_rulebook(directory)
    click.echo(
        f"OK: {len(rulebook.rules)} rules, {len(rulebook.files)} files, "
        f"{len(rulebook.parameters)} parameters; rules version {rulebook.version}"
    )


@rules_group.command("list")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def list_command(directory: Path | None) -> None:
    """Print the rule catalogue: what each rule does, its parameters with values, codes and citations."""
    click.echo(catalogue(load_rulebook(directory)))


rules_group.add_command(test_command)
