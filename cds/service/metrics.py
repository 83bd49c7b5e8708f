"""Prometheus metrics, correct across worker processes.

With one worker the metrics live in memory. With several, `cds serve` points PROMETHEUS_MULTIPROC_DIR at
`<data dir>/metrics` before the workers start, every worker writes its samples there, and whichever
worker answers GET /metrics adds them all up, so a scrape sees the whole service. prometheus_client's
own process metrics only see the process that answers, so there each worker copies its own into
`cds_process_*` gauges, one series per worker pid.

Labelled counters start at 0 for every label known at start (rules, outcomes, failure kinds), so a
rate or an alert over them works before the first event.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, get_args

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import (
    values as prometheus_values,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.process_collector import ProcessCollector

from cds import __version__

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "cds_http_requests_total",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "cds_http_request_duration_seconds",
    "Time from request start to the last byte of the response, by endpoint and status.",
    ["endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CARDS = Counter("cds_cards_total", "Cards issued, by rule id and indicator.", ["rule", "indicator"])
PREFETCH_FALLBACKS = Counter(
    "cds_prefetch_fallbacks_total",
    "Prefetch keys the service queried from fhirServer itself, by key.",
    ["key"],
)
FHIR_ERRORS = Counter(
    "cds_fhir_server_errors_total", "Failed queries to a client's fhirServer, by kind of failure.", ["kind"]
)
AUTH_FAILURES = Counter("cds_auth_failures_total", "Requests refused with 401, by reason.", ["reason"])
FEEDBACK = Counter("cds_feedback_entries_total", "Feedback entries stored, by outcome.", ["outcome"])
RULES_LOADED = Gauge(
    "cds_rules_loaded",
    "1 for the rules version a worker evaluates with (one series per live worker when several run).",
    ["rules_version"],
    multiprocess_mode="liveall",
)
RELOADS = Counter("cds_rules_reloads_total", "Rule reloads, by result.", ["result"])
BUILD_INFO = Gauge(
    "cds_build_info",
    "1, labelled with the spasm-cds version and the rules version a worker runs.",
    ["version", "rules_version"],
    multiprocess_mode="liveall",
)
_PROCESS_SAMPLE_SECONDS = 10.0
_PROCESS = {
    name: Gauge(f"cds_{name}", f"Per worker (label pid): {text}", multiprocess_mode="liveall", registry=None)
    for name, text in (
        ("process_resident_memory_bytes", "resident memory in bytes."),
        ("process_virtual_memory_bytes", "virtual memory in bytes."),
        ("process_cpu_seconds_total", "user and system CPU time in seconds."),
        ("process_open_fds", "open file descriptors."),
        ("process_start_time_seconds", "start time since the epoch, in seconds."),
    )
}
_OWN_PROCESS = ProcessCollector(registry=None)


@functools.lru_cache(maxsize=256)
def _request_series(endpoint: str, method: str, status: str) -> tuple[Any, Any]:
    """The REQUESTS and LATENCY children of one label set: `labels()` checks and locks on every call, and
    endpoints (route templates) times methods times statuses are few."""
    return (
        REQUESTS.labels(endpoint=endpoint, method=method, status=status),
        LATENCY.labels(endpoint=endpoint, status=status),
    )


def request_answered(endpoint: str, method: str, status: int, seconds: float) -> None:
    requests, latency = _request_series(endpoint, method, str(status))
    requests.inc()
    latency.observe(seconds)


@functools.lru_cache(maxsize=256)
def _card_series(rule: str, indicator: str) -> Any:
    return CARDS.labels(rule=rule, indicator=indicator)


def card_issued(rule: str, indicator: str) -> None:
    _card_series(rule, indicator).inc()


def prepare_multiprocess(directory: Path) -> None:
    """Called once by the parent before it forks workers: stale files from a previous run would add up.

    prometheus_client picks in-memory or file-backed values when it is imported, which here is before the
    parent knows how many workers it starts; so values are switched to files now, the few made at import
    (metrics without labels) included, and the forked workers inherit that.
    """
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    prometheus_values.ValueClass = prometheus_values.MultiProcessValue()  # type: ignore[no-untyped-call]
    for metric in [*globals().values(), *_PROCESS.values()]:
        if isinstance(metric, MetricWrapperBase) and metric._is_observable():  # type: ignore[no-untyped-call]
            metric._metric_init()  # type: ignore[no-untyped-call]


def worker_exiting(pid: int | None = None) -> None:
    """Drops a worker's live gauges: called by the worker as it exits, or by the parent for a killed one."""
    if MULTIPROC_ENV in os.environ:
        multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]


def count_from_zero(
    rule_ids: Iterable[str], indicators: Iterable[str], prefetch_keys: Iterable[str], **known: Iterable[str]
) -> None:
    """Creates every series known at start at 0; `known` maps a label value set to FEEDBACK (outcome),
    RELOADS (result) and FHIR_ERRORS (kind)."""
    for rule in rule_ids:
        for indicator in indicators:
            CARDS.labels(rule=rule, indicator=indicator)
    for key in prefetch_keys:
        PREFETCH_FALLBACKS.labels(key=key)
    counters = {"outcome": FEEDBACK, "result": RELOADS, "kind": FHIR_ERRORS}
    for label, values in known.items():
        for value in values:
            counters[label].labels(value)


def literal_values(annotation: Any) -> tuple[str, ...]:
    """The values of a Literal type, for count_from_zero."""
    return tuple(str(value) for value in get_args(annotation))


def sample_process() -> None:
    """Copies this worker's process metrics into its cds_process_* gauges (multi-worker mode only)."""
    if MULTIPROC_ENV not in os.environ:
        return
    for family in _OWN_PROCESS.collect():
        for sample in family.samples:
            gauge = _PROCESS.get(sample.name)
            if gauge is not None:
                gauge.set(sample.value)


async def sample_process_periodically() -> None:
    """Runs until cancelled, so idle workers' figures stay fresh too."""
    while True:
        sample_process()
        await asyncio.sleep(_PROCESS_SAMPLE_SECONDS)


def render() -> tuple[bytes, str]:
    if MULTIPROC_ENV in os.environ:
        sample_process()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def rules_in_use(version: str, previous: str | None = None) -> None:
    if previous is not None and previous != version:
        RULES_LOADED.labels(rules_version=previous).set(0)
        BUILD_INFO.labels(version=__version__, rules_version=previous).set(0)
    RULES_LOADED.labels(rules_version=version).set(1)
    BUILD_INFO.labels(version=__version__, rules_version=version).set(1)


SHADOW_EVALUATIONS = Counter(
    "cds_shadow_evaluations_total", "Hook calls evaluated again with the candidate rules (shadow mode)."
)
SHADOW_SKIPPED = Counter(
    "cds_shadow_skipped_total",
    "Calls sampled for shadow evaluation but not evaluated, by reason (queue_full, crash, timeout, error).",
    ["reason"],
)
SHADOW_DIFFERENCES = Counter(
    "cds_shadow_differences_total",
    "Shadowed calls where the candidate's cards differ from the live ones (a rule or an indicator).",
)
SHADOW_RELOADS = Counter(
    "cds_shadow_reloads_total", "Reloads of the shadow candidate rules, by result.", ["result"]
)
SHADOW_RULES_LOADED = Gauge(
    "cds_shadow_rules_loaded",
    "1 for the candidate rules version a worker shadows with.",
    ["rules_version"],
    multiprocess_mode="liveall",
)


def shadow_rules_in_use(version: str, previous: str | None = None) -> None:
    if previous is not None and previous != version:
        SHADOW_RULES_LOADED.labels(rules_version=previous).set(0)
    SHADOW_RULES_LOADED.labels(rules_version=version).set(1)
