"""Cases run through the service's path; the shipped rules come with a passing case for every rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
from click.testing import CliRunner

from cds.cli.main import cli
from cds.evaluation import Evaluator
from cds.rulebook import Rulebook
from cds.workbench.builder import build_bundle
from cds.workbench.cases import Case, load_cases
from cds.workbench.report import case_report
from cds.workbench.runner import run_case, run_cases

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def _shipped(rulebook: Rulebook) -> list[Case]:
    suite = load_cases(rulebook.directory / "tests", rulebook, now=NOW)
    assert not suite.problems, [str(p) for p in suite.problems]
    return suite.cases


def _case(tmp_path: Path, rulebook: Rulebook, text: str) -> Case:
    (tmp_path / "case.yaml").write_text(text)
    return load_cases(tmp_path, rulebook, now=NOW).cases[0]


def test_every_shipped_case_passes(rulebook: Rulebook, evaluator: Evaluator) -> None:
    failed = [r for r in run_cases(_shipped(rulebook), evaluator) if not r.passed]
    assert not failed, case_report(failed, [], rulebook, source="rules/tests")


def test_every_shipped_rule_has_a_case_giving_its_card_and_one_holding_it_back(rulebook: Rulebook) -> None:
    cases = _shipped(rulebook)
    fired = {rule for c in cases for rule in [*(c.expect.cards or []), *c.expect.fired]}
    held = {rule for c in cases for rule in c.expect.held_back}
    for rule in rulebook.rules:
        assert rule.id in fired, f"no case shows {rule.id} giving its card"
        assert rule.id in held or not rule.spec.when.unless, f"no case shows {rule.id} held back"


def test_a_case_gives_the_cards_cds_evaluate_gives_for_its_record(
    tmp_path: Path, rulebook: Rulebook, evaluator: Evaluator
) -> None:
    case = _case(tmp_path, rulebook, "name: x\nrecord: [cramp, magnesium 1.3 mg/dL]\nexpect: {top: info}\n")
    record = tmp_path / "record.json"
    record.write_bytes(orjson.dumps(build_bundle(case.record, patient=case.patient, now=case.now)))
    printed = CliRunner().invoke(cli, ["evaluate", str(record), "--now", NOW.isoformat()])
    cards = orjson.loads(printed.output)["cards"]
    result = run_case(case, evaluator)
    assert result.evaluation is not None
    assert [c["source"]["topic"]["code"] for c in cards] == [
        c.source.topic.code for c in result.evaluation.response.cards if c.source.topic
    ]


def test_a_failing_case_shows_the_difference_and_the_explanation(
    tmp_path: Path, rulebook: Rulebook, evaluator: Evaluator
) -> None:
    text = "name: wrong\nrecord: [cramp, magnesium 1.8 mg/dL]\nexpect: {cards: [spasm-benign-contributors]}\n"
    result = run_case(_case(tmp_path, rulebook, text), evaluator)
    report = case_report([result], [], rulebook, source=str(tmp_path))
    assert "FAIL  wrong" in report
    assert (
        "cards: expected spasm-benign-contributors; found (none); missing spasm-benign-contributors" in report
    )
    assert "Explanation:" in report and "[lab:magnesium]" in report
    assert report.endswith("1 cases: 0 passed, 1 failed")


def test_card_contains_also_reads_the_suggested_orders(
    tmp_path: Path, rulebook: Rulebook, evaluator: Evaluator
) -> None:
    text = (
        "name: order\nrecord: [cramp, weakness]\nexpect: {card contains: [183521007, Refer to neurology]}\n"
    )
    assert run_case(_case(tmp_path, rulebook, text), evaluator).passed
