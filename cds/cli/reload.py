"""`cds reload`: the running service re-reads its rules; broken rules are refused and the old ones stay."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click

from cds.cli.feedback import data_dir_options, resolve_settings
from cds.service.pidfile import PidFile


@click.command("reload")
@data_dir_options
def reload_command(config_file: Path | None, data_dir: Path | None) -> None:
    """Send SIGHUP to the `cds serve` using this data directory (found by its pid file).

    Every worker reloads; the outcome is in the service's log (event rules_reload) and the rules
    version now in use in GET /healthz.
    """
    pid_file = resolve_settings(config_file, data_dir).pid_file
    pid = PidFile(pid_file).running()
    if pid is None:
        raise click.ClickException(f"no running cds serve found ({pid_file} is missing or stale)")
    os.kill(pid, signal.SIGHUP)
    click.echo(f"Sent SIGHUP to cds serve (pid {pid}); check GET /healthz for the rules version in use.")
