"""`cds`: evaluate records, check and list rules, serve the CDS Hooks service, measure, back-test.

Commands are imported only when run: `cds serve` must not pay for the benchmark or the workbench, and
with several workers every process starts the CLI afresh.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "evaluate": "cds.cli.evaluate:evaluate_command",
    "rules": "cds.cli.rules:rules_group",
    "serve": "cds.cli.serve:serve_command",
    "reload": "cds.cli.reload:reload_command",
    "feedback": "cds.cli.feedback:feedback_group",
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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spasm-cds")
def cli() -> None:
    """Muscle-spasm clinical decision support: FHIR in, explained CDS Hooks cards out."""


def main() -> None:
    cli()
