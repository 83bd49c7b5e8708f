"""Options several commands share, declared once."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

SYNTHEA_SAMPLE = Path("../shared/data/synthea-r4")
"""The Synthea sample beside a checkout, seen from its top folder; never a path in the installed package."""


def rules_option(function: Any) -> Any:
    return click.option(
        "--rules",
        "rules_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Rules directory (default: the rules/ shipped with the package).",
    )(function)


def synthea_option(flag: str, name: str) -> Callable[[Any], Any]:
    return click.option(
        flag,
        name,
        type=click.Path(file_okay=False, path_type=Path),
        default=SYNTHEA_SAMPLE,
        show_default=True,
        help="Folder of Synthea FHIR R4 patient Bundles (*.json, *.json.gz).",
    )


def require_extra(extra: str, *modules: str) -> None:
    """Before any work: a missing optional dependency is one line naming the extra that brings it."""
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise click.ClickException(
            f"{' and '.join(missing)} not installed: this command needs the {extra} extra "
            f"(pip install 'spasm-cds[{extra}]')"
        )


def now_option(help: str) -> Callable[[Any], Any]:
    return click.option("--now", default=None, callback=_iso_moment, metavar="ISO", help=help)


def _iso_moment(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    """Without a zone the moment is UTC, as time windows are counted in UTC."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO date or date-time such as 2026-11-25, got {value!r}", ctx, param
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
