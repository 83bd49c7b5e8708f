"""The back-test as a picture (PNG) and as one self-contained HTML page with the picture inside."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

from cds.workbench.backtest import BacktestReport
from cds.workbench.impact import percent, rule_rows, what_changed

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BEFORE_COLOUR = "#9aa5b1"
AFTER_COLOUR = "#1f6fb2"
EXAMPLES_SHOWN = 100
NO_CARD = "no card"
TOP_ORDER = ("none", "critical", "warning", "info")
"""No card first, then from the most urgent: the rarest bar, critical, stands beside the largest."""


def card_rate_png(report: BacktestReport) -> bytes:
    buffer = io.BytesIO()
    card_rate_figure(report).savefig(buffer, format="png")
    return buffer.getvalue()


def card_rate_figure(report: BacktestReport) -> Figure:
    """Card rate per rule, and patients by most urgent card, baseline beside current when there is one.

    A linear scale, every bar labelled with its value: a small share (a critical card for one patient in
    a hundred) is read from its label, beside the large share with no card.
    """
    from matplotlib.figure import Figure

    evaluated = max(report.current.patients_evaluated, 1)
    rows = rule_rows(report)
    figure = Figure(figsize=(13, 0.55 * len(rows) + 2.6), dpi=110, layout="constrained")
    rules_axis, top_axis = figure.subplots(1, 2, width_ratios=[3, 2.2])
    tops = [report.current.patients_by_top_indicator[t] for t in TOP_ORDER]
    series = [("current", [row.after for row in rows], tops, AFTER_COLOUR)]
    if report.baseline:
        before_tops = [report.baseline.patients_by_top_indicator[t] for t in TOP_ORDER]
        series.insert(0, ("baseline", [row.before or 0 for row in rows], before_tops, BEFORE_COLOUR))
    height = 0.8 / len(series)
    for index, (label, per_rule, per_top, colour) in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * height
        rates = [100 * n / evaluated for n in per_rule]
        bars = rules_axis.barh(
            [p + offset for p in range(len(rows))], rates, height, color=colour, label=label
        )
        labels = [f"{r:.2f}% ({n:,})" for r, n in zip(rates, per_rule, strict=True)]
        rules_axis.bar_label(bars, labels=labels, padding=2, fontsize=8)
        shares = [100 * n / evaluated for n in per_top]
        bars = top_axis.bar([p + offset for p in range(len(TOP_ORDER))], shares, height, color=colour)
        top_axis.bar_label(bars, labels=[f"{r:.1f}%" for r in shares], padding=2, fontsize=7)
    if report.baseline:
        rules_axis.legend(loc="lower right")
    rules_axis.set_yticks(range(len(rows)), [row.rule_id for row in rows])
    rules_axis.invert_yaxis()
    rules_axis.set_xlabel("% of patients with the rule's card")
    rules_axis.set_title("Card rate per rule")
    rules_axis.margins(x=0.25)
    top_axis.set_xticks(range(len(TOP_ORDER)), [NO_CARD if t == "none" else t for t in TOP_ORDER])
    top_axis.set_ylabel("% of patients")
    top_axis.set_title("Most urgent card per patient")
    top_axis.margins(y=0.12)
    figure.suptitle(
        f"{report.current.patients_evaluated:,} patients, evaluated at {report.now.date().isoformat()}"
    )
    return figure


def _cards(top: str, rule_ids: list[str]) -> str:
    return f"{top}: {', '.join(rule_ids)}" if rule_ids else NO_CARD


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
        *(
            [
                "<h2>What changed</h2>",
                f"<pre>{html.escape(chr(10).join(what_changed(report.rules_diff)))}</pre>",
            ]
            if report.rules_diff is not None
            else []
        ),
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
                ["top indicator", "patients"],
                [[move.replace("none", NO_CARD), f"{n:,}"] for move, n in changes.transitions.items()],
            ),
            f"<h3>First {min(EXAMPLES_SHOWN, len(changes.examples))} by id</h3>",
            _table(
                ["patient", "source", "before", "after", "why"],
                [
                    [
                        c.patient_id,
                        c.source,
                        _cards(c.before_top, c.before_cards),
                        _cards(c.after_top, c.after_cards),
                        c.why,
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
