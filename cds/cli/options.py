"""Options several commands share, declared once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from cds.evaluate import Evaluator
from cds.rulebook import RulebookError, load_rulebook


def rules_option(function: Any) -> Any:
    return click.option(
        "--rules",
        "rules_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Rules directory (default: the rules/ shipped with the package).",
    )(function)


def load_evaluator(rules_dir: Path | None) -> Evaluator:
    try:
        return Evaluator(load_rulebook(rules_dir))
    except RulebookError as exc:
        raise click.ClickException(f"the rules do not load:\n{exc}") from exc


def parse_now(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"expected an ISO date or date-time such as 2026-11-25, got {value!r}"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
