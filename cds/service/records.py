"""What an answered hook call leaves behind, made once its answer is sent: the log fields of its cards,
the issued cards and audit record handed to the audit queue, the card metrics, the shadow offer (in
that order, so a broken metric cannot lose an audit record).

None of it is in the response, so the EHR gets its cards first, and at one call at a time this work
overlaps the client's turn between an answer and its next call. `keep` runs in the call's own
coroutine after the last byte is sent (or the client has left), before the call's access log line is
written, so the line still carries the rule ids; it never raises: a failure is logged with its stack
and the answer already sent stands.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from cds.cards.models import Card
from cds.service import metrics
from cds.service.audit import AnsweredCall
from cds.service.background import BoundedWorker
from cds.service.hooks import HookContext, HookRequest
from cds.service.logging import annotate
from cds.service.middleware import log_unexpected
from cds.service.prefetch import Resolved
from cds.service.reload import ActiveRules
from cds.shadow.job import ShadowJob
from cds.store import AuditRecord, IssuedCard, ShadowCard

if TYPE_CHECKING:
    from cds.shadow.runner import Shadow


class CallRecords(NamedTuple):
    """An answered call as its answer left it: who asked, about whom, what was read and the cards (a
    named tuple: every call makes one, in C)."""

    called_at: dt.datetime
    issuer: str | None
    service: str
    request: HookRequest
    context: HookContext
    active: ActiveRules
    resolved: Resolved
    cards: tuple[Card, ...]
    audit: BoundedWorker[AnsweredCall]
    shadow: Shadow | None

    async def keep(self) -> None:
        try:
            await self._keep()
        except Exception:
            log_unexpected()

    async def _keep(self) -> None:
        issued = self.issued()
        rule_ids = tuple(card.rule_id for card in issued)
        annotate(
            rules_version=self.active.version,
            rule_ids=list(rule_ids),
            prefetch_fetched=list(self.resolved.fetched),
            prefetch_unavailable=list(self.resolved.unavailable),
        )
        call = AuditRecord(
            called_at=self.called_at,
            issuer=self.issuer,
            user_id=self.context.userId,
            patient_id=self.context.patientId,
            hook_instance=self.request.hookInstance,
            service=self.service,
            rules_version=self.active.version,
            rule_ids=rule_ids,
        )
        await self.audit.submit(AnsweredCall(call, issued))
        for card in issued:
            metrics.card_issued(card.rule_id, card.indicator)
        if self.shadow is not None and self.shadow.sampled():
            self.shadow.offer(self._shadow_job(issued))

    def issued(self) -> tuple[IssuedCard, ...]:
        """The cards that name their rule (every card the rules make does), as the store records them."""
        rules_version = self.active.version
        rule_versions = self.active.rule_versions
        return tuple(
            IssuedCard(
                uuid=card.uuid,
                rule_id=rule_id,
                rule_version=rule_versions.get(rule_id, "unknown"),
                rules_version=rules_version,
                indicator=card.indicator,
                hook_instance=self.request.hookInstance,
                service=self.service,
                issued_at=self.called_at,
            )
            for card in self.cards
            if (rule_id := card.source.topic.code if card.source.topic else None) is not None
        )

    def _shadow_job(self, issued: tuple[IssuedCard, ...]) -> ShadowJob:
        return ShadowJob(
            called_at=self.called_at,
            service=self.service,
            hook_instance=self.request.hookInstance,
            patient_id=self.context.patientId,
            read=self.resolved.read,
            live=self.active.evaluator.rulebook,
            live_cards=tuple(ShadowCard(c.rule_id, c.rule_version, c.indicator, c.uuid) for c in issued),
        )
