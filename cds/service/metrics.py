"""Prometheus metrics, correct across worker processes.

With one worker the metrics live in memory. With several, `cds serve` points PROMETHEUS_MULTIPROC_DIR at
`<data dir>/metrics` before the workers start, every worker writes its samples there, and whichever
worker answers GET /metrics adds them all up, so a scrape sees the whole service.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def prepare_multiprocess(directory: Path) -> None:
    """Called once by the parent before it starts workers: stale files from a previous run would add up."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)


def worker_exiting() -> None:
    if MULTIPROC_ENV in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def render() -> tuple[bytes, str]:
    if MULTIPROC_ENV in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def rules_in_use(version: str, previous: str | None = None) -> None:
    if previous is not None and previous != version:
        RULES_LOADED.labels(rules_version=previous).set(0)
    RULES_LOADED.labels(rules_version=version).set(1)
