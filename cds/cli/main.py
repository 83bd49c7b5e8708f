"""`cds`: evaluate records, check and list rules, serve the CDS Hooks service, measure, back-test.

Commands are imported only when run: `cds serve` must not pay for the benchmark or the workbench, and
with several workers every process starts the CLI afresh.

Errors meet the user in one place, `LazyGroup.invoke`: a `CdsError` is its message on one line (exit
status 1), or, for rules that do not load, every problem found (exit status 2, so CI can tell broken
rules from a failing rule test).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from cds import __version__
from cds.errors import CdsError

RULES_DO_NOT_LOAD = 2

COMMANDS: dict[str, str] = {
    "evaluate": "cds.cli.evaluate:evaluate_command",
    "rules": "cds.cli.rules:rules_group",
    "serve": "cds.cli.serve:serve_command",
    "reload": "cds.cli.reload:reload_command",
    "feedback": "cds.cli.feedback:feedback_group",
    "shadow": "cds.cli.shadow:shadow_group",
    "backtest": "cds.cli.workbench:backtest_command",
    "population": "cds.cli.workbench:population_group",
    "bench": "cds.cli.bench:bench_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CdsError as error:
            from cds.rulebook import RulebookError  # on this path only: `cds --version` stays light

            if isinstance(error, RulebookError):
                problems = len(error.problems)
                click.echo(
                    f"Error: the rules do not load ({problems} problem{'s' * (problems != 1)}):", err=True
                )
                click.echo(str(error), err=True)
                ctx.exit(RULES_DO_NOT_LOAD)
            raise click.ClickException(str(error)) from error


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spasm-cds")
def cli() -> None:
    """Muscle-spasm clinical decision support: FHIR in, explained CDS Hooks cards out."""


def main() -> None:
    cli()
