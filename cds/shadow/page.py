"""The shadow report as one self-contained HTML page: a chart, then the tables a committee reads."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from typing import Any

from cds.rulebook.diff import RulesDiff
from cds.shadow.compare import INDICATORS
from cds.shadow.report import PairReport, ShadowReport

LIVE_COLOUR = "#9aa5b1"
CANDIDATE_COLOUR = "#1f6fb2"
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:76em;color:#1b1f24}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #d0d7de;padding:.3em .7em;"
    "text-align:left;vertical-align:top}th{background:#f3f5f7}td.n{text-align:right}img{max-width:100%}"
    "caption{text-align:left;font-weight:600;padding:.3em 0;white-space:nowrap}.none{color:#57606a}"
)


def chart_png(pair: PairReport) -> bytes:
    """Cards per rule and calls per most urgent card, live beside candidate, every bar labelled with its
    count on a linear axis: small differences are read from the labels, not guessed from a log scale."""
    from matplotlib.figure import Figure

    rules = [row.rule_id for row in pair.rules]
    figure = Figure(figsize=(11, 0.6 * max(len(rules), 4) + 2.2), dpi=110, layout="constrained")
    rules_axis, top_axis = figure.subplots(1, 2, width_ratios=[3, 2])
    height = 0.38
    positions = list(range(len(rules)))
    for offset, label, colour, values in (
        (-height / 2, "live", LIVE_COLOUR, [row.live_cards for row in pair.rules]),
        (height / 2, "candidate", CANDIDATE_COLOUR, [row.candidate_cards for row in pair.rules]),
    ):
        bars = rules_axis.barh([p + offset for p in positions], values, height, color=colour, label=label)
        rules_axis.bar_label(bars, padding=3)
    rules_axis.set_yticks(positions, rules)
    rules_axis.invert_yaxis()
    rules_axis.margins(x=0.15)
    rules_axis.set_xlabel("cards")
    rules_axis.set_title("Cards per rule")
    rules_axis.legend(loc="lower right")
    live_tops, candidate_tops = Counter[str](), Counter[str]()
    for change in pair.top_indicator:
        live_tops[change.before] += change.calls
        candidate_tops[change.after] += change.calls
    tops = list(INDICATORS)
    top_positions = list(range(len(tops)))
    for offset, colour, counts in (
        (-height / 2, LIVE_COLOUR, live_tops),
        (height / 2, CANDIDATE_COLOUR, candidate_tops),
    ):
        bars = top_axis.bar(
            [p + offset for p in top_positions], [counts[t] for t in tops], height, color=colour
        )
        top_axis.bar_label(bars, padding=2)
    top_axis.set_xticks(top_positions, tops)
    top_axis.margins(y=0.15)
    top_axis.set_ylabel("calls")
    top_axis.set_title("Most urgent card per call")
    figure.suptitle(
        f"{pair.calls:,} calls shadowed: live {pair.live_rules_version}, "
        f"candidate {pair.candidate_rules_version}"
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _table(table_id: str, caption: str, headers: list[str], rows: list[list[Any]]) -> str:
    """Numbers right-aligned; an empty table says so in a row rather than vanishing."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    if not rows:
        body = f'<tr><td class=none colspan="{len(headers)}">none</td></tr>'
    else:
        body = "".join(
            "<tr>"
            + "".join(
                f"<td class=n>{cell:,}</td>"
                if isinstance(cell, int)
                else f"<td>{html.escape(str(cell))}</td>"
                for cell in row
            )
            + "</tr>"
            for row in rows
        )
    return (
        f'<table id="{table_id}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _value(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _diff_tables(n: int, diff: RulesDiff) -> list[str]:
    return [
        _table(
            f"parameters-{n}",
            "Parameters",
            ["parameter", "change", "old", "new", "used by"],
            [
                [
                    p.name,
                    p.change,
                    f"{_value(p.old)} {p.old_unit or ''}",
                    f"{_value(p.new)} {p.new_unit or ''}",
                    ", ".join(p.used_by) or "fact layer",
                ]
                for p in diff.parameters
            ],
        ),
        _table(
            f"codes-{n}",
            "Codes per concept",
            ["concept", "change", "system", "code", "old", "new"],
            [
                [
                    c.concept,
                    c.change,
                    c.system,
                    c.code,
                    f"{c.old.display} [{c.old.status}]" if c.old else "(none)",
                    f"{c.new.display} [{c.new.status}]" if c.new else "(none)",
                ]
                for c in diff.codes
            ],
        ),
        _table(
            f"rule-versions-{n}",
            "Rules and versions",
            ["rule", "change", "old version", "new version", "parts changed"],
            [
                [
                    r.rule_id,
                    r.change,
                    _value(r.old_version),
                    _value(r.new_version),
                    ", ".join(r.parts) + (" (version not bumped)" if r.version_not_bumped else ""),
                ]
                for r in diff.rules
            ],
        ),
        _table(
            f"cards-{n}",
            "Card text and severity",
            ["rule", "field", "old", "new"],
            [[c.rule_id, c.field, _value(c.old), _value(c.new)] for c in diff.cards],
        ),
    ]


def _pair_section(n: int, pair: PairReport) -> list[str]:
    png = base64.b64encode(chart_png(pair)).decode()
    sections = [
        f"<h2>Live {html.escape(pair.live_rules_version)} &rarr; candidate "
        f"{html.escape(pair.candidate_rules_version)}</h2>",
        f"<p>{pair.calls:,} calls shadowed from {pair.first_call:%Y-%m-%d %H:%M} to "
        f"{pair.last_call:%Y-%m-%d %H:%M} UTC; the cards differ in {pair.calls_differing:,}.</p>",
        "<h3>What changed</h3>",
    ]
    if pair.diff is None:
        sections.append("<p>The diff of this pair was not recorded.</p>")
    else:
        sections += _diff_tables(n, RulesDiff.from_json(pair.diff))
    sections += [
        f'<img id="chart-{n}" alt="cards per rule and most urgent card per call, live and candidate" '
        f'src="data:image/png;base64,{png}">',
        _table(
            f"rules-{n}",
            "Per rule",
            ["rule", "live cards", "candidate cards", "calls differing", "the rule's card, before → after"],
            [
                [
                    r.rule_id,
                    r.live_cards,
                    r.candidate_cards,
                    r.calls_differing,
                    "; ".join(f"{c.before} → {c.after}: {c.calls:,}" for c in r.changes) or "-",
                ]
                for r in pair.rules
            ],
        ),
        _table(
            f"top-indicator-{n}",
            "Most urgent card per call, before → after",
            ["before", "after", "calls"],
            [[c.before, c.after, c.calls] for c in pair.top_changes],
        ),
        _table(
            f"removed-{n}",
            "Live cards the candidate would remove, and what clinicians did with them",
            ["rule", "cards", "accepted", "overridden", "override reasons", "no feedback"],
            [
                [
                    r.rule_id,
                    r.cards,
                    r.accepted,
                    r.overridden,
                    "; ".join(f"{reason.reason}: {reason.cards:,}" for reason in r.override_reasons) or "-",
                    r.no_feedback,
                ]
                for r in pair.removed
            ],
        ),
        _table(
            f"added-{n}",
            "Cards the candidate would add",
            ["rule", "indicator", "cards"],
            [[a.rule_id, a.indicator, a.cards] for a in pair.added],
        ),
    ]
    return sections


def html_page(report: ShadowReport) -> str:
    since = f" since {report.since:%Y-%m-%d %H:%M} UTC" if report.since else ""
    sections = [f"<h1>Shadow report{since}</h1>"]
    if not report.pairs:
        sections.append("<p>No shadowed calls.</p>")
    for n, pair in enumerate(report.pairs, start=1):
        sections += _pair_section(n, pair)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shadow report</title>'
        f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )
