"""`cds rules check` and `cds rules list`: what an informaticist runs after editing a rule file."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from cds.cli.workbench import test_command
from cds.rulebook import load_rulebook
from cds.rulebook.catalogue import catalogue
from cds.rulebook.diff import describe, diff_rulebooks
from cds.rulebook.terminology import EXPANSIONS_FILE
from cds.terminology.families import expansions_yaml
from cds.terminology.icd10cm import tabular_version
from cds.terminology.verify import verify


@click.group("rules")
def rules_group() -> None:
    """Check, list and test the rule files."""


@rules_group.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def check_command(directory: Path | None) -> None:
    """Validate every rule, value-set and parameter file in DIRECTORY (default: the shipped rules/), and
    check the codes against the ICD-10-CM tabular and the SNOMED CT IPS free set."""
    rulebook = load_rulebook(directory)
    checked = verify(rulebook.terminology, rulebook.directory)
    for line in [*rulebook.notes, *checked.marks]:
        click.echo(f"note: {line}")
    if checked.problems:
        click.echo("\n".join(checked.problems), err=True)
        raise SystemExit(f"{len(checked.problems)} problem(s) with codes")
    click.echo(
        f"OK: {len(rulebook.rules)} rules, {len(rulebook.files)} files, "
        f"{len(rulebook.parameters)} parameters; rules version {rulebook.version}"
    )


@rules_group.command("diff")
@click.argument("old", type=click.Path(file_okay=False, path_type=Path))
@click.argument("new", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
def diff_command(old: Path, new: Path, as_json: bool) -> None:
    """What differs from the rules in OLD to those in NEW: parameters, codes per concept, rules and
    their versions, card text and severity, each with its old and new value."""
    diff = diff_rulebooks(load_rulebook(old), load_rulebook(new))
    click.echo(
        orjson.dumps(diff.to_json(), option=orjson.OPT_INDENT_2).decode() if as_json else describe(diff)
    )


@rules_group.command("expand")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def expand_command(directory: Path | None) -> None:
    """Record the ICD-10-CM families of DIRECTORY's value sets, expanded from the tabular, in
    terminology/icd-10-cm-expansions.yaml (so loading the rules does not need the tabular)."""
    rulebook = load_rulebook(directory)
    families = list(rulebook.terminology.families.values())
    path = rulebook.directory / EXPANSIONS_FILE
    path.write_text(expansions_yaml(families, tabular_version()), encoding="utf-8")
    click.echo(f"{path}: {len(families)} families, {sum(len(f.members) for f in families)} codes")


@rules_group.command("list")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def list_command(directory: Path | None) -> None:
    """Print the rule catalogue: what each rule does, its parameters with values, codes and citations."""
    click.echo(catalogue(load_rulebook(directory)))


rules_group.add_command(test_command)
