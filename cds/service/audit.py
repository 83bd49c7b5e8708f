"""The audit trail: who was shown what, about whom.

Every hook call answered leaves one record in the store (never in the operational log): when, the
calling EHR (JWT `iss`), `userId`, the patient id, `hookInstance`, the service, the rules version and
the rule ids of the cards returned, none when there were none. The cards themselves are recorded
beside it for feedback. Both wait in the worker's bounded queue (`cds.service.background`) and are
written in batches on a thread of their own after the response, so they cost the caller no latency
unless the queue is full; a process crash can lose the calls still queued, a shutdown writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cds.service.background import BoundedWorker
from cds.store import AuditRecord, IssuedCard, Store

CAPACITY = 1024
"""Answered calls whose records may wait, about 700 bytes each (a card, measured): under 1 MB in all."""
MAX_BATCH = 256
LINGER_S = 0.005
"""How long the first call of a batch waits for others. 50 ms made batches of 10-20 calls; written on
this thread while the event loop is in a call, such a batch delayed the calls it met (about 15 %) by
4.9-6.3 ms for 0.6-0.7 ms of writer CPU; a 5 ms batch delays those it meets (about 55 %) by 1.1-1.6 ms.
Measured at one worker, concurrency 1, on a machine shared with other work (load average 3-3.6), in
interleaved rounds: 5 ms gave the lower p50 in 65 of 74 rounds at 10 resources (four runs, by 0.8-1.8
ms) and 35 of 42 at 100 (three runs), the lower p90 in 68 of 74 and 40 of 42, and 0.2 ms less
main-thread CPU a call for 0.08-0.14 ms more of the writer's; one other run at 100 resources had 50 ms
lower by 0.2-0.4 ms. A GIL switch interval of 0.5 ms instead of 5 did not change the delays."""


@dataclass(frozen=True)
class AnsweredCall:
    call: AuditRecord
    cards: tuple[IssuedCard, ...]


def remember_calls(store: Store, answered: Sequence[AnsweredCall]) -> None:
    store.record_calls(
        [entry.call for entry in answered], [card for entry in answered for card in entry.cards]
    )


def audit_queue(store: Store) -> BoundedWorker[AnsweredCall]:
    return BoundedWorker(
        "audit",
        lambda answered: remember_calls(store, answered),
        CAPACITY,
        max_batch=MAX_BATCH,
        linger=LINGER_S,
    )
