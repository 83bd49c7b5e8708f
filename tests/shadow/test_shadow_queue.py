"""Which calls are shadowed: the sampled share, and none beyond the queue's bound (skipped, counted)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from cds.fhir import read_path
from cds.rulebook import Rulebook
from cds.shadow.job import ShadowJob
from cds.shadow.runner import Shadow
from cds.store import MemoryStore

REPO = Path(__file__).resolve().parents[2]


def _skipped(reason: str) -> float:
    return REGISTRY.get_sample_value("cds_shadow_skipped_total", {"reason": reason}) or 0.0


@pytest.fixture
def unstarted(rulebook: Rulebook, tmp_path: Path) -> Iterator[Shadow]:
    """A shadow whose worker never runs: whatever is offered stays queued."""
    shadow = Shadow(tmp_path, rulebook, MemoryStore(), sample=1.0, capacity=1, timeout=1.0)
    yield shadow
    shadow.candidate.retire()


def test_a_call_offered_to_a_full_shadow_queue_is_skipped_and_counted(
    unstarted: Shadow, rulebook: Rulebook
) -> None:
    job = ShadowJob(
        called_at=dt.datetime.now(dt.UTC),
        service="spasm-patient-view",
        hook_instance="hook-1",
        patient_id="pat-001",
        read=read_path(REPO / "fixtures" / "benign-low-magnesium.json"),
        live=rulebook,
        live_cards=(),
    )
    before = _skipped("queue_full")
    unstarted.offer(job)
    unstarted.offer(job)
    assert _skipped("queue_full") == before + 1


def test_a_sample_shadows_the_share_of_calls_it_names(rulebook: Rulebook, tmp_path: Path) -> None:
    draws = iter([0.1, 0.3, 0.24, 0.9])
    shadow = Shadow(
        tmp_path, rulebook, MemoryStore(), sample=0.25, capacity=1, timeout=1.0, draw=lambda: next(draws)
    )
    assert [shadow.sampled() for _ in range(4)] == [True, False, True, False]
