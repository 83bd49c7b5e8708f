"""A live call as shadow mode takes it, once the answer is sent: what the candidate needs, no more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cds.fhir import ReadResult
from cds.rulebook import Rulebook
from cds.store import ShadowCard


@dataclass(frozen=True)
class ShadowJob:
    """A live call as the candidate needs it: the resources read (never stored) and the live cards."""

    called_at: dt.datetime
    service: str
    hook_instance: str
    patient_id: str
    read: ReadResult
    live: Rulebook
    live_cards: tuple[ShadowCard, ...]
