"""The back-test as a picture (PNG) and as one self-contained HTML page with the picture inside."""

from __future__ import annotations

import base64
import html
import io

from cds.workbench.backtest import BacktestReport
from cds.workbench.impact import INDICATORS, percent, rule_rows

BEFORE_COLOUR = "#9aa5b1"
AFTER_COLOUR = "#1f6fb2"
EXAMPLES_SHOWN = 100


def card_rate_png(report: BacktestReport) -> bytes:
    """Card rate per rule (and patients by top indicator), baseline beside current when there is one."""
    from matplotlib.figure import Figure

    evaluated = max(report.current.patients_evaluated, 1)
    rows = rule_rows(report)
    figure = Figure(figsize=(11, 0.55 * len(rows) + 2.4), dpi=110, layout="constrained")
    rules_axis, top_axis = figure.subplots(1, 2, width_ratios=[3, 2])
    positions = list(range(len(rows)))
    height = 0.38 if report.baseline else 0.6
    after = [100 * row.after / evaluated for row in rows]
    if report.baseline:
        before = [100 * (row.before or 0) / evaluated for row in rows]
        rules_axis.barh(
            [p + height / 2 for p in positions], before, height, color=BEFORE_COLOUR, label="baseline"
        )
        rules_axis.barh(
            [p - height / 2 for p in positions], after, height, color=AFTER_COLOUR, label="current"
        )
        rules_axis.legend(loc="lower right")
    else:
        rules_axis.barh(positions, after, height, color=AFTER_COLOUR)
    rules_axis.set_yticks(positions, [row.rule_id for row in rows])
    rules_axis.invert_yaxis()
    rules_axis.set_xlabel("% of patients with the rule's card")
    rules_axis.set_title("Card rate per rule")
    tops = ["none", *reversed(INDICATORS)]
    top_positions = list(range(len(tops)))
    after_tops = [100 * report.current.patients_by_top_indicator[t] / evaluated for t in tops]
    if report.baseline:
        before_tops = [100 * report.baseline.patients_by_top_indicator[t] / evaluated for t in tops]
        top_axis.bar([p - height / 2 for p in top_positions], before_tops, height, color=BEFORE_COLOUR)
        top_axis.bar([p + height / 2 for p in top_positions], after_tops, height, color=AFTER_COLOUR)
    else:
        top_axis.bar(top_positions, after_tops, height, color=AFTER_COLOUR)
    top_axis.set_xticks(top_positions, tops)
    top_axis.set_yscale("log")
    top_axis.set_ylabel("% of patients (log scale)")
    top_axis.set_title("Most urgent card per patient")
    figure.suptitle(
        f"{report.current.patients_evaluated:,} patients, evaluated at {report.now.date().isoformat()}"
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(report: BacktestReport, png: bytes) -> str:
    evaluated = report.current.patients_evaluated
    rows = rule_rows(report)
    headers = ["rule", "indicator"]
    headers += ["baseline cards", "baseline rate"] if report.baseline else []
    headers += ["cards", "rate"]
    headers += ["gained", "lost"] if report.changes else []
    table_rows = []
    for row in rows:
        cells = [row.rule_id, row.indicator]
        if row.before is not None:
            cells += [f"{row.before:,}", percent(row.before, evaluated)]
        cells += [f"{row.after:,}", percent(row.after, evaluated)]
        if row.gained is not None and row.lost is not None:
            cells += [f"{row.gained:,}", f"{row.lost:,}"]
        table_rows.append(cells)
    rules = [f"current rules {report.current.rules_dir} (version {report.current.version})"]
    if report.baseline:
        rules.append(f"baseline rules {report.baseline.rules_dir} (version {report.baseline.version})")
    sections = [
        f"<h1>Back-test: {html.escape(report.population)}</h1>",
        f"<p>{html.escape(report.population_kind)}, {report.patients:,} patients read, "
        f"{evaluated:,} evaluated at {html.escape(report.now.isoformat())}; "
        f"{html.escape('; '.join(rules))}.</p>",
        f'<img alt="card rate per rule" src="data:image/png;base64,{base64.b64encode(png).decode()}">',
        "<h2>Cards per rule</h2>",
        _table(headers, table_rows),
    ]
    if report.changes:
        changes = report.changes
        sections += [
            "<h2>Patients whose cards changed</h2>",
            f"<p>{changes.patients_changed:,} patients: the set of cards changed for "
            f"{changes.cards_changed:,}, the most urgent card for {changes.top_indicator_changed:,}.</p>",
            _table(
                ["top indicator", "patients"], [[move, f"{n:,}"] for move, n in changes.transitions.items()]
            ),
            f"<h3>First {min(EXAMPLES_SHOWN, len(changes.examples))} by id</h3>",
            _table(
                ["patient", "source", "before", "after"],
                [
                    [
                        c.patient_id,
                        c.source,
                        f"{c.before_top}: {', '.join(c.before_cards) or '-'}",
                        f"{c.after_top}: {', '.join(c.after_cards) or '-'}",
                    ]
                    for c in changes.examples[:EXAMPLES_SHOWN]
                ],
            ),
        ]
        if report.changes_file:
            sections.append(f"<p>Every changed patient: <code>{html.escape(report.changes_file)}</code></p>")
    if report.not_evaluated:
        sections += [f"<h2>Not evaluated: {report.not_evaluated:,}</h2>"]
        sections += [
            "<ul>" + "".join(f"<li>{html.escape(e)}</li>" for e in report.not_evaluated_examples) + "</ul>"
        ]
    run = report.run
    sections.append(
        f"<p class=run>{html.escape(run.execution)}: {run.seconds:.1f} s, {run.patients_per_second:,.0f} "
        f"patients/s, peak memory {run.peak_rss_mb:.0f} MB.</p>"
    )
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#1b1f24}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #d0d7de;padding:.3em .7em;"
        "text-align:left}th{background:#f3f5f7}img{max-width:100%}.run{color:#57606a}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Back-test {html.escape(report.population)}</title><style>{style}</style></head>"
        f"<body>{''.join(sections)}</body></html>\n"
    )
