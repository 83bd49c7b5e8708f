"""The Starlette application: routes, middleware and the per-worker start-up and shut-down.

`create_app` loads and checks everything that can be wrong in the configuration (rules, issuer keys)
before the app exists, so a bad setting stops start-up with its reason instead of failing calls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import signal
import threading
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from cds.cards.models import Indicator
from cds.rulebook import Rulebook, load_rulebook
from cds.service import endpoints, metrics
from cds.service.access import RequireCaller
from cds.service.addresses import GuardedTransport
from cds.service.audit import audit_queue
from cds.service.auth import Authenticator
from cds.service.direct import HookCalls
from cds.service.errors import EXCEPTION_HANDLERS
from cds.service.feedback import FeedbackEntry
from cds.service.fhirclient import FailureKind, FhirServerClient
from cds.service.jwks import issuer_keys
from cds.service.logging import get_logger
from cds.service.middleware import RequestContext, UnexpectedErrors
from cds.service.openapi import openapi_json
from cds.service.prefetch import PrefetchResolver
from cds.service.reload import ReloadResult, RulesHolder, reload_on_sighup, stop_reloading_on_sighup
from cds.service.replay import ReplayGuard
from cds.service.retention import purge_periodically
from cds.service.settings import Settings, load_settings
from cds.service.state import ServiceState
from cds.store import Store, open_store

if TYPE_CHECKING:
    from cds.shadow.runner import Shadow

SETTINGS_ENV = "CDS_SERVICE_RESOLVED_SETTINGS"
"""How `cds serve` hands its resolved settings to worker processes, which start from a fresh interpreter."""
CORS_METHODS = ("GET", "POST", "OPTIONS")
CORS_HEADERS = ("Authorization", "Content-Type", "Accept")

log = get_logger("app")


def create_app(
    settings: Settings, holder: RulesHolder | None = None, store: Store | None = None
) -> Starlette:
    """Raises RulebookError for rules (or shadow candidate rules) that do not load and SettingsError for
    unusable issuer keys.

    The store is opened (and migrated) when the app starts, unless one is given, which the caller closes.
    """
    rules = holder or RulesHolder.load(settings.rules_dir)
    candidate = load_rulebook(settings.shadow_rules) if settings.shadow_rules is not None else None
    keys = issuer_keys(settings) if settings.auth == "jwt" else {}
    openapi = openapi_json()

    async def openapi_endpoint(_: Request) -> Response:
        return Response(openapi, media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(
            settings.fhir_read_timeout,
            connect=settings.fhir_connect_timeout,
            pool=settings.fhir_connect_timeout,
        )
        opened = store or open_store(settings.database)
        audit = audit_queue(opened)
        audit.start()
        shadow = _shadow(settings, candidate, opened)
        replay = ReplayGuard(opened, keep_after_expiry=settings.jwt_clock_skew_seconds)
        keep = dt.timedelta(days=settings.retention_days)
        purging = asyncio.create_task(purge_periodically(opened, keep, settings.purge_interval_seconds))
        sampling = asyncio.create_task(metrics.sample_process_periodically())
        metrics.count_from_zero(
            rules.current.rule_versions,
            metrics.literal_values(Indicator),
            rules.current.templates,
            outcome=metrics.literal_values(FeedbackEntry.model_fields["outcome"].annotation),
            result=metrics.literal_values(typing.get_type_hints(ReloadResult)["status"]),
            kind=metrics.literal_values(FailureKind),
        )
        transport = GuardedTransport(settings.outbound_private_networks)
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        ) as http:
            fhir = FhirServerClient(http, settings.fhir_max_pages, settings.fhir_max_response_bytes)
            authenticator = Authenticator(
                keys, replay, http, settings.jwt_clock_skew_seconds, settings.jwt_max_lifetime_seconds
            )
            app.state.service = ServiceState(
                settings=settings,
                holder=rules,
                store=opened,
                audit=audit,
                resolver=PrefetchResolver(
                    fhir,
                    total_timeout=settings.fhir_total_timeout,
                    allow_http=settings.fhir_allow_http,
                    open_servers=settings.fhir_open_servers,
                    servers_for=settings.fhir_servers_for,
                ),
                authenticator=authenticator if settings.auth == "jwt" else None,
                shadow=shadow,
            )
            if shadow is not None:
                shadow.start()
            serving = threading.current_thread() is threading.main_thread()
            if serving:
                reload_on_sighup(rules.reload, *([shadow.reload] if shadow else []))
                gc.collect()
                gc.freeze()
            _log_ready(settings, rules)
            try:
                yield
            finally:
                if serving:
                    stop_reloading_on_sighup()
                purging.cancel()
                sampling.cancel()
                await run_in_threadpool(audit.stop, settings.shutdown_drain_seconds)
                if shadow is not None:
                    shadow.stop()
                if store is None:
                    opened.close()
                metrics.worker_exiting()

    return ServiceApp(
        routes=[
            Route("/cds-services", endpoints.discovery, methods=["GET"]),
            Route("/cds-services/{service_id}", endpoints.call_service, methods=["POST"]),
            Route("/cds-services/{service_id}/feedback", endpoints.feedback, methods=["POST"]),
            Route("/healthz", endpoints.healthz, methods=["GET"]),
            Route("/readyz", endpoints.readyz, methods=["GET"]),
            Route("/metrics", endpoints.metrics_endpoint, methods=["GET"]),
            Route("/openapi.json", openapi_endpoint, methods=["GET"]),
        ],
        middleware=[
            Middleware(RequestContext),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=list(CORS_METHODS),
                allow_headers=list(CORS_HEADERS),
                max_age=600,
            ),
            Middleware(UnexpectedErrors),
            Middleware(RequireCaller),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )


class ServiceApp(Starlette):
    """The hook calls' direct route (`cds.service.direct`) in front of every layer Starlette builds, its
    outermost error middleware included, which would otherwise wrap every `send` of every call."""

    def build_middleware_stack(self) -> ASGIApp:
        return HookCalls(super().build_middleware_stack())


def _shadow(settings: Settings, candidate: Rulebook | None, store: Store) -> Shadow | None:
    """Imported here: cds.shadow builds on this package's metrics, logging and reload."""
    if candidate is None or settings.shadow_rules is None:
        return None
    from cds.shadow.runner import Shadow

    return Shadow(
        settings.shadow_rules,
        candidate,
        store,
        sample=settings.shadow_sample,
        capacity=settings.shadow_queue,
        timeout=settings.shadow_timeout_seconds,
    )


def app_from_environment() -> Starlette:
    """The uvicorn factory each worker calls; `cds serve` has put its resolved settings in the environment.

    SIGHUP is ignored until the worker is ready (it would otherwise end the process): a worker still
    starting loads the rules as they are on disk anyway.
    """
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    resolved = os.environ.get(SETTINGS_ENV)
    settings = Settings.model_validate_json(resolved) if resolved else load_settings()
    return create_app(settings)


def _log_ready(settings: Settings, rules: RulesHolder) -> None:
    fields = {
        "event": "ready",
        "pid": os.getpid(),
        "rules_version": rules.current.version,
        "auth": settings.auth,
        "trusted_issuers": [issuer.iss for issuer in settings.trusted_issuers],
    }
    log.info("worker ready", extra={"fields": fields})
    if settings.auth == "jwt" and not settings.trusted_issuers:
        log.warning(
            "auth is on but no trusted issuer is configured: every call will get 401",
            extra={"fields": {"event": "no_issuers"}},
        )
