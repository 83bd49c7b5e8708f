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
LINGER_S = 0.05
"""How long the first call of a batch waits for others, unless `FILL` calls are waiting first: at
1000 resources a call takes 10-15 ms, and batches of three or four keep the writer at 0.14 ms of CPU
a call, against 0.40 ms with a transaction per call (measured)."""
FILL = 4
"""A batch is written once this many calls wait. Waiting out 50 ms at 10 resources made batches of
10-20 calls; written on this thread while the event loop is in a call, such a batch delayed the calls
it met (about 10-15 %) by 2.4-6.3 ms for 0.6-1.0 ms of writer CPU, a batch of four those it meets
(about 40 %) by 0.3 ms. Measured at one worker, concurrency 1, on a machine shared with other work
(load average 3-4), interleaved rounds: at 10 resources waiting 5 ms instead of 50 gave the lower p50
in 65 of 74 rounds (four runs) and the lower p90 in 68 of 74, at 100 in 35 of 42 and 40 of 42; four
calls or 50 ms against 5 ms: the same p50 (7 of 14 rounds, +0.01 ms), p90 -0.15 ms, writer CPU 0.12
-> 0.10 ms a call at 10 resources and 0.40 -> 0.14 ms at 1000. A GIL switch interval of 0.5 ms instead
of 5 did not change the delays."""


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
        fill=FILL,
    )
