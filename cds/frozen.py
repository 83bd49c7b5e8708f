"""The one base for models that are values: immutable once built, strict about their fields.

Frozen, because facts, cards, rule files and back-test figures are shared between threads, requests and
worker processes and must not change under them; `extra="forbid"`, because a misspelt field in a rule
file, a case or a report is a mistake to name, not data to drop.
"""

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
