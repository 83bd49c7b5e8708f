"""A back-test told in words: cards per rule before and after, who changed, and how fast it ran."""

from __future__ import annotations

from dataclasses import dataclass

from cds.rulebook.diff import RulesDiff, describe
from cds.workbench.backtest import BacktestReport
from cds.workbench.tally import RulesetStats

INDICATORS = ("critical", "warning", "info")
WHY_SHOWN = 3


def what_changed(diff: RulesDiff) -> list[str]:
    """The rules diff in the words of `cds rules diff`, without its first line (the versions, said above)."""
    return describe(diff).splitlines()[1:]


@dataclass(frozen=True)
class RuleRow:
    rule_id: str
    indicator: str
    before: int | None
    after: int
    gained: int | None
    lost: int | None


def rule_rows(report: BacktestReport) -> list[RuleRow]:
    """One row per rule of either rule set, current rules first."""
    after = {r.rule_id: r for r in report.current.rules}
    before = {r.rule_id: r for r in report.baseline.rules} if report.baseline else {}
    changes = {r.rule_id: r for r in report.changes.rules} if report.changes else {}
    rows = []
    for rule_id in dict.fromkeys([*after, *before]):
        stats = after.get(rule_id) or before[rule_id]
        change = changes.get(rule_id)
        rows.append(
            RuleRow(
                rule_id=rule_id,
                indicator=stats.indicator,
                before=before[rule_id].cards if rule_id in before else (0 if report.baseline else None),
                after=after[rule_id].cards if rule_id in after else 0,
                gained=change.gained if change else None,
                lost=change.lost if change else None,
            )
        )
    return rows


def percent(count: int, total: int) -> str:
    return f"{100 * count / total:.2f}%" if total else "-"


def _ruleset_line(role: str, stats: RulesetStats) -> str:
    return f"{role}: {stats.rules_dir} (rules version {stats.version})"


def impact_text(report: BacktestReport) -> str:
    evaluated = report.current.patients_evaluated
    lines = [
        f"Back-test of {report.population} ({report.population_kind}), evaluated at {report.now.isoformat()}",
        _ruleset_line("Current rules", report.current),
    ]
    if report.baseline:
        lines.append(_ruleset_line("Baseline rules", report.baseline))
    if report.rules_diff is not None:
        lines += ["", "What changed from the baseline to the current rules:"]
        lines += [f"  {line}" for line in what_changed(report.rules_diff)]
    lines += ["", f"Patients: {report.patients:,} read, {evaluated:,} evaluated", ""]
    head = f"{'rule':<28}{'indicator':<11}"
    head += f"{'baseline':>10}{'rate':>9}" if report.baseline else ""
    head += f"{'cards':>10}{'rate':>9}"
    head += f"{'gained':>9}{'lost':>7}" if report.changes else ""
    lines.append(head)
    for row in rule_rows(report):
        line = f"{row.rule_id:<28}{row.indicator:<11}"
        if row.before is not None:
            line += f"{row.before:>10,}{percent(row.before, evaluated):>9}"
        line += f"{row.after:>10,}{percent(row.after, evaluated):>9}"
        if row.gained is not None and row.lost is not None:
            line += f"{row.gained:>9,}{row.lost:>7,}"
        lines.append(line)
    lines += ["", "Cards by indicator:"]
    for indicator in INDICATORS:
        after = report.current.cards_by_indicator[indicator]
        before = f"{report.baseline.cards_by_indicator[indicator]:,} -> " if report.baseline else ""
        lines.append(f"  {indicator:<9}{before}{after:,}")
    with_cards = report.current.patients_with_cards
    before_cards = f"{report.baseline.patients_with_cards:,} -> " if report.baseline else ""
    lines.append(f"Patients with any card: {before_cards}{with_cards:,} ({percent(with_cards, evaluated)})")
    if report.changes:
        changes = report.changes
        lines += [
            "",
            f"Patients whose cards changed: {changes.patients_changed:,} "
            f"(set of cards changed: {changes.cards_changed:,}; top indicator changed: "
            f"{changes.top_indicator_changed:,})",
        ]
        lines += [f"  top indicator {move}: {count:,}" for move, count in changes.transitions.items()]
        if changes.examples:
            shown = ", ".join(c.patient_id for c in changes.examples[:10])
            more = " ..." if changes.patients_changed > 10 else ""
            lines.append(f"  patients: {shown}{more}")
            lines.append(f"  why, for the first {min(WHY_SHOWN, len(changes.examples))} by id:")
            lines += [f"    {c.patient_id}: {c.why}" for c in changes.examples[:WHY_SHOWN]]
        if report.changes_file:
            lines.append(f"  every changed patient, before and after: {report.changes_file}")
    if report.not_evaluated:
        lines += ["", f"Not evaluated: {report.not_evaluated:,}"]
        lines += [f"  {example}" for example in report.not_evaluated_examples[:5]]
    if report.notes:
        lines += ["", "Notes on the population:"] + [f"  {note}" for note in report.notes]
    run = report.run
    workers = (
        f", largest worker {run.peak_worker_rss_mb:.0f} MB" if run.peak_worker_rss_mb is not None else ""
    )
    lines += [
        "",
        f"Ran on {run.execution}: {report.patients:,} patients in {run.seconds:.1f} s "
        f"({run.patients_per_second:,.0f} patients/s; first patient after "
        f"{run.first_patient_seconds:.1f} s); CPU {run.cpu_seconds:.1f} s "
        f"({1000 * run.cpu_seconds / max(report.patients, 1):.2f} ms per patient, "
        f"{run.main_cpu_seconds:.1f} s of it in this process); "
        f"peak memory: this process {run.peak_rss_mb:.0f} MB{workers}",
    ]
    return "\n".join(lines)
