"""Field types every rules file shares."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, Field(min_length=1)]
CodeStatus = Literal["confirmed", "repo-only", "unconfirmed"]
Region = Literal["bulbar", "cervical", "thoracic", "lumbosacral"]
