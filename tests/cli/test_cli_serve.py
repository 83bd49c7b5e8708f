"""`cds serve` on a port already taken says so before it claims to be listening."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from cds.cli.main import cli


def test_a_port_in_use_is_reported_before_listening_is_printed(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "--no-auth", "--port", str(port), "--data-dir", str(tmp_path / "var")]
        )
    assert result.exit_code == 1
    assert "Listening on" not in result.output
    assert result.output == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use (choose another with --port)\n"
    )
