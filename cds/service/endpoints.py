"""The HTTP endpoints. The caller is checked before any of them runs (`cds.service.access`); each call
then checks the service id, then reads the body."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from cds.fhir import InputError, parse_hook_call, parse_json_bytes
from cds.service import metrics
from cds.service.access import caller_of
from cds.service.auth import Caller
from cds.service.body import read_json
from cds.service.discovery import SERVICE_HOOKS
from cds.service.errors import ServiceError, invalid_request
from cds.service.feedback import FeedbackRequest, feedback_records
from cds.service.hooks import parse_hook_request
from cds.service.logging import annotate, get_logger
from cds.service.prefetch import RequiredDataUnavailable
from cds.service.records import CallRecords
from cds.service.reload import ReloadResult
from cds.service.state import ServiceState, service_state
from cds.service.unavailable import missing_data_card
from cds.store import StoreUnavailable

JSON = "application/json"

log = get_logger("endpoints")


class LastReload(BaseModel):
    status: str
    rulesVersion: str
    at: dt.datetime
    problems: tuple[str, ...] = ()


class Health(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str
    rulesVersion: str
    rulesLoadedAt: dt.datetime
    lastReload: LastReload | None = None
    shadowRulesVersion: str | None = None
    lastShadowReload: LastReload | None = None
    auth: str
    pid: int


async def discovery(request: Request) -> Response:
    state = service_state(request)
    return Response(state.holder.current.discovery, media_type=JSON)


async def call_service(request: Request) -> Response:
    """The routed hook call: those with an Origin header (CORS) or under a root path; the rest take
    `cds.service.direct`, which answers with the same `answer_call`."""
    state = service_state(request)
    return _Answer(await answer_call(state, caller_of(request), request))


@dataclass(frozen=True)
class Answer:
    """A call's answer, holding what the call built (the decoded body, the resources read, the
    evaluation) until it has been sent: freeing those objects takes about 0.8 ms at 1000 resources
    (measured), which then happens after the last byte is written instead of before the first."""

    body: bytes
    built: tuple[object, ...] = ()
    records: CallRecords | None = None
    """What the answer leaves behind, kept once it is sent (`finish`)."""

    async def finish(self) -> None:
        """Called once the answer is sent, or could not be: never raises."""
        if self.records is not None:
            await self.records.keep()


async def answer_call(state: ServiceState, caller: Caller | None, request: Request) -> Answer:
    """Raises ServiceError for anything the caller must fix (404 for an unknown service id first)."""
    if state.shadow is None:
        return await _answer(state, caller, _known_service(request), request)
    with state.shadow.answering():
        return await _answer(state, caller, _known_service(request), request)


async def _answer(state: ServiceState, caller: Caller | None, service_id: str, request: Request) -> Answer:
    parse = parse_hook_call if state.settings.reader == "fast" else parse_json_bytes
    document = await read_json(request, state.settings.max_request_bytes, parse)
    hook_request, context = parse_hook_request(document, service_id, SERVICE_HOOKS[service_id])
    annotate(service=service_id, hook=hook_request.hook, hook_instance=hook_request.hookInstance)
    issuer = caller.iss if caller else None
    with state.holder.acquire() as active:
        try:
            resolved = await state.resolver.resolve(hook_request, context, active.templates, issuer)
        except RequiredDataUnavailable as error:
            if state.settings.on_missing_data != "warning-card":
                raise
            annotate(rules_version=active.version, missing_data=[item.key for item in error.missing])
            return Answer(missing_data_card(error))
        try:
            evaluation = active.evaluator.evaluate(resolved.read, patient_id=context.patientId)
        except InputError as error:
            raise ServiceError.single(400, "value", str(error), "context.patientId") from None
        body = evaluation.response_json()
    records = CallRecords(
        called_at=dt.datetime.now(dt.UTC),
        issuer=issuer,
        service=service_id,
        request=hook_request,
        context=context,
        active=active,
        resolved=resolved,
        cards=evaluation.response.cards,
        audit=state.audit,
        shadow=state.shadow,
    )
    return Answer(body, (document, hook_request, resolved, evaluation), records)


class _Answer(Response):
    """An `Answer` as a Starlette response, which keeps it (and so what the call built) until sent,
    then finishes it."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.body, media_type=JSON)
        self._answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._answer.finish()


async def feedback(request: Request) -> Response:
    state = service_state(request)
    service_id = _known_service(request)
    document = await read_json(request, state.settings.max_request_bytes)
    try:
        entries = FeedbackRequest.model_validate(document).feedback
    except ValidationError as error:
        raise invalid_request(error) from None
    await run_in_threadpool(state.store.record_feedback, feedback_records(service_id, entries))
    for entry in entries:
        metrics.FEEDBACK.labels(outcome=entry.outcome).inc()
    annotate(service=service_id, feedback_entries=len(entries))
    return Response(status_code=200)


async def healthz(request: Request) -> Response:
    state = service_state(request)
    active = state.holder.current
    last = state.holder.last_reload
    shadow = state.shadow
    health = Health(
        status="ok",
        rulesVersion=active.version,
        rulesLoadedAt=active.loaded_at,
        lastReload=_last_reload(last),
        shadowRulesVersion=shadow.version if shadow else None,
        lastShadowReload=_last_reload(shadow.last_reload) if shadow else None,
        auth=state.settings.auth,
        pid=os.getpid(),
    )
    return Response(orjson.dumps(health.model_dump(mode="json", exclude_none=True)), media_type=JSON)


def _last_reload(last: ReloadResult | None) -> LastReload | None:
    if last is None:
        return None
    return LastReload(status=last.status, rulesVersion=last.rules_version, at=last.at, problems=last.problems)


async def readyz(request: Request) -> Response:
    """Ready when the rules are loaded and the database answers; a load balancer sends calls only then."""
    state = service_state(request)
    checks = {"rulesVersion": state.holder.current.version, "database": "ok"}
    try:
        await run_in_threadpool(state.store.ping)
    except StoreUnavailable as error:
        log.warning("not ready: %s", error, extra={"fields": {"event": "not_ready"}})
        checks["database"] = "unreachable"
    ready = checks["database"] == "ok"
    body = {"status": "ready" if ready else "unavailable", **checks}
    return Response(orjson.dumps(body), status_code=200 if ready else 503, media_type=JSON)


async def metrics_endpoint(_: Request) -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


def _known_service(request: Request) -> str:
    service_id = request.path_params["service_id"]
    if service_id not in SERVICE_HOOKS:
        known = ", ".join(SERVICE_HOOKS)
        raise ServiceError.single(404, "not-found", f"id: no such service; this server has {known}", "id")
    assert isinstance(service_id, str)
    return service_id
