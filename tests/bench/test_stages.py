"""The stage profile times the real app's stages, nested as they call each other, and removes its clocks."""

from __future__ import annotations

import logging

import pytest

from cds.bench.stages import STAGES, StageProfile, profile_stages, render_stages
from cds.bench.workload import BenchRequest
from cds.service.logging import logging_config


@pytest.fixture(scope="module")
def profile(workload: dict[int, list[BenchRequest]]) -> StageProfile:
    return profile_stages([r.body for r in workload[10]], 10, requests=8)


def _stage(profile: StageProfile, label: str) -> tuple[int, float, float]:
    found = next(s for s in profile.stages if s.label.startswith(label))
    return found.depth, found.self_us, found.inclusive_us


def test_each_call_passes_every_stage_of_the_service_path(profile: StageProfile) -> None:
    timed = {stage.label for stage in profile.stages}
    for label in ("request: Observation", "engine: durable session", "cards: build_cards"):
        assert any(name.startswith(label) for name in timed), label
    assert profile.requests == 8 and profile.plain_us > 0


def test_a_stage_inside_another_is_deeper_and_counted_once(profile: StageProfile) -> None:
    outer_depth, outer_self, outer_inclusive = _stage(profile, "evaluate")
    inner_depth, _, inner_inclusive = _stage(profile, "facts: extract_facts")
    assert inner_depth == outer_depth + 1
    assert outer_self <= outer_inclusive - inner_inclusive + 1


def test_the_clocks_are_removed_after_the_profile(profile: StageProfile) -> None:
    for stage in STAGES:
        code = stage.owner.__dict__[stage.name].__code__
        assert code.co_name not in {"timed", "timed_async"}, stage.label


def test_the_table_lists_every_stage_with_its_times(profile: StageProfile) -> None:
    table = render_stages(profile).splitlines()
    assert table[0].startswith("Stages of a call in process, 10 resources, 8 calls")
    assert len([line for line in table if line.startswith("| ") and "µs" not in line]) == len(profile.stages)


def test_the_profile_leaves_the_service_loggers_as_it_found_them(
    workload: dict[int, list[BenchRequest]],
) -> None:
    loggers = [logging.getLogger(name) for name in logging_config("info")["loggers"]]
    before = [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    profile_stages([r.body for r in workload[10]][:1], 10, requests=1)
    assert [(logger.handlers, logger.level, logger.propagate) for logger in loggers] == before
