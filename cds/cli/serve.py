"""`cds serve`: the CDS Hooks service, on 127.0.0.1:8080 unless told otherwise."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from cds.rulebook import load_rulebook
from cds.service.jwks import issuer_keys
from cds.service.server import serve
from cds.service.settings import Settings, describe_settings, ensure_writable_data_dir, load_settings
from cds.store import open_store

EXAMPLE_BODY = (
    '{"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",'
    '"context":{"userId":"Practitioner/1","patientId":"pat-1"},'
    '"prefetch":{"patient":{"resourceType":"Patient","id":"pat-1"},"conditions":null,"observations":null}}'
)


def _settings_epilog() -> str:
    rows = [f"  {variable:<28} {default:<12} {text}" for variable, default, text in describe_settings()]
    header = "Every setting, as environment variable (in a --config file: the lower-case name without CDS_):"
    return "\b\n" + "\n".join([header, *rows])


@click.command("serve", epilog=_settings_epilog())
@click.option("--host", default=None, help="Address to listen on [CDS_HOST; default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [CDS_PORT; default 8080].")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Worker processes [CDS_WORKERS; default 1]."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML settings file [CDS_CONFIG]; environment variables and flags override it.",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Rules directory [CDS_RULES_DIR; default: the rules/ shipped with the package].",
)
@click.option(
    "--shadow-rules",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Candidate rules to evaluate in shadow after each answer, never shown [CDS_SHADOW_RULES].",
)
@click.option(
    "--shadow-sample",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=None,
    help="Share of calls shadowed [CDS_SHADOW_SAMPLE; default 1].",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Feedback store, pid file and metrics [CDS_DATA_DIR; default ./var].",
)
@click.option(
    "--public-base-url",
    default=None,
    help="URL clients call, e.g. https://cds.example.org [CDS_PUBLIC_BASE_URL]; JWT aud = it + the path.",
)
@click.option(
    "--no-auth",
    is_flag=True,
    default=False,
    help="Accept calls without a JWT [CDS_AUTH=off]; only allowed when listening on loopback.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="[CDS_LOG_LEVEL; default info]",
)
def serve_command(
    host: str | None,
    port: int | None,
    workers: int | None,
    config_file: Path | None,
    rules_dir: Path | None,
    shadow_rules: Path | None,
    shadow_sample: float | None,
    data_dir: Path | None,
    public_base_url: str | None,
    no_auth: bool,
    log_level: str | None,
) -> None:
    """Serve the CDS Hooks 2.0 service (discovery, calls, feedback, /healthz, /metrics, /openapi.json).

    Auth is on by default: calls need a JWT signed by an issuer listed in trusted_issuers (config file
    or CDS_TRUSTED_ISSUERS). Every setting is described in docs/service.md. Send SIGHUP (or run
    `cds reload`) to reload the rules without stopping.
    """
    settings = load_settings(
        config_file=config_file,
        host=host,
        port=port,
        workers=workers,
        rules_dir=rules_dir,
        shadow_rules=shadow_rules,
        shadow_sample=shadow_sample,
        data_dir=data_dir,
        public_base_url=public_base_url,
        auth="off" if no_auth else None,
        log_level=log_level,
    )
    ensure_writable_data_dir(settings.data_dir)
    if settings.auth == "jwt":
        issuer_keys(settings)
    rulebook = load_rulebook(settings.rules_dir)
    candidate = load_rulebook(settings.shadow_rules) if settings.shadow_rules is not None else None
    store = open_store(settings.database)  # reachable, and migrated before any worker starts
    store.close()
    _check_port_free(settings.host, settings.port)
    shadow = (
        f"Shadow: candidate rules version {candidate.version} from {settings.shadow_rules}, "
        f"{settings.shadow_sample:.0%} of calls, never shown; `cds shadow report` compares them"
        if candidate is not None
        else None
    )
    _announce(settings, rulebook.version, len(rulebook.rules), store.database.describe(), shadow)
    sys.exit(serve(settings, rulebook=rulebook))


def _check_port_free(host: str, port: int) -> None:
    """Before "Listening on" is printed: a port taken is the whole message, not a log line after it."""
    address = host.strip("[]")
    try:
        socket.create_server(
            (address, port), family=socket.AF_INET6 if ":" in address else socket.AF_INET
        ).close()
    except OSError as error:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {os.strerror(error.errno) if error.errno else error} "
            "(choose another with --port)"
        ) from None


def _announce(
    settings: Settings, rules_version: str, rule_count: int, database: str, shadow: str | None
) -> None:
    base = settings.public_url
    auth = "" if settings.auth == "off" else " -H 'Authorization: Bearer <JWT>'"
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    issuers = len(settings.trusted_issuers)
    mode = "off (loopback only)" if settings.auth == "off" else f"JWT, {issuers} trusted issuer(s)"
    lines = [
        f"spasm-cds: {rule_count} rules, rules version {rules_version}, from {settings.rules_dir}",
        f"Listening on http://{settings.host}:{settings.port} ({workers}; auth: {mode})",
        f"Pid file and metrics in {settings.data_dir}; cards, feedback and audit in {database}",
        *([shadow] if shadow else []),
        "",
        f"  Discovery:  curl{auth} {base}/cds-services",
        f"  Call:       curl{auth} -H 'Content-Type: application/json' \\",
        f"                --data '{EXAMPLE_BODY}' \\",
        f"                {base}/cds-services/spasm-patient-view",
        f"  Health:     curl {base}/healthz",
    ]
    if settings.auth == "jwt" and not issuers:
        lines += [
            "",
            "Auth is on but no trusted issuer is configured, so every call gets 401. Configure",
            "trusted_issuers (docs/service.md), or try the service locally with: cds serve --no-auth",
        ]
    click.echo("\n".join(lines))
