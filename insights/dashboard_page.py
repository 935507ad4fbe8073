"""The insights dashboard as one HTML page, rendered on the server from a report.

`render(report, choices, error)` returns the page: the filter form, the key figures,
SVG charts (`insights/charts.py`) and the tables behind them, with links to the same
data as JSON and CSV (`/console/api/insights`). Every text from the data (channel
names, question keys, unanswered questions a visitor typed) is HTML-escaped. No
script and no inline style: the console's Content-Security-Policy allows neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

from insights import charts
from insights.report_tables import SECTIONS

API = "/console/api/insights"
FUNNEL_SERIES = ("answered", "declined", "dropped off", "skipped")
FINDINGS = ("predicts acceptance", "predicts rejection", "no clear link", "too few verdicts")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return escape(str(value))


def _wait(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _query(filters: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in filters.items() if v})


def _options(name: str, chosen: str | None, values: Sequence[str]) -> str:
    options = [f'<option value=""{" selected" if not chosen else ""}>all</option>']
    for value in values:
        selected = " selected" if value == chosen else ""
        options.append(f'<option value="{escape(value)}"{selected}>{escape(value)}</option>')
    return f'<select name="{name}" id="filter-{name}">{"".join(options)}</select>'


def _form(filters: dict[str, Any], choices: dict[str, list[str]]) -> str:
    return (
        '<form class="filters" method="get" action="/console/insights">'
        f'<label>From <input type="date" name="from" value="{escape(filters["from"])}"></label>'
        f'<label>To <input type="date" name="to" value="{escape(filters["to"])}"></label>'
        f"<label>Channel {_options('channel', filters['channel'], choices['channels'])}</label>"
        f"<label>Language {_options('language', filters['language'], choices['languages'])}"
        '</label><button type="submit">Show</button></form>'
    )


def _downloads(filters: dict[str, Any]) -> str:
    query = _query(filters)
    links = [f'<a href="{API}?{escape(query)}">JSON</a>']
    links += [
        f'<a href="{API}/{section}.csv?{escape(query)}">{section}.csv</a>' for section in SECTIONS
    ]
    return f'<p class="downloads">Download: {" · ".join(links)}</p>'


def _tiles(overview: dict[str, Any], csat: list[dict[str, Any]]) -> str:
    end = next((c for c in csat if c["moment"] == "end"), {})
    handoff = next((c for c in csat if c["moment"] == "handoff"), {})
    tiles = [
        ("Conversations", _number(overview["conversations"])),
        ("Engaged", _number(overview["engaged_conversations"])),
        ("Leads", _number(overview["leads"])),
        ("MQL", _number(overview["mql"])),
        ("SQL", _number(overview["sql"])),
        ("Accepted by sales", _number(overview["accepted_by_sales"])),
        ("Rejected by sales", _number(overview["rejected_by_sales"])),
        ("Handoffs", _number(overview["handoffs"])),
        ("Containment rate", _percent(overview["containment_rate"])),
        ("Fallback rate", _percent(overview["fallback_rate"])),
        ("Handoff rate", _percent(overview["handoff_rate"])),
        ("Median wait until claimed", _wait(overview["median_wait_seconds"])),
        ("CSAT (end)", _csat_figure(end)),
        ("CSAT (after handoff)", _csat_figure(handoff)),
    ]
    items = "".join(
        f'<div class="tile" data-metric="{escape(label)}"><span class="figure">{value}</span>'
        f'<span class="label">{escape(label)}</span></div>'
        for label, value in tiles
    )
    return f'<section class="tiles">{items}</section>'


def _csat_figure(row: dict[str, Any]) -> str:
    if not row or row.get("average") is None:
        return "–"
    return f"{row['average']:.2f} ({row['ratings']})"


def _table(rows: list[dict[str, Any]], columns: Sequence[str], caption: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(caption)}: no data</p>'
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c), c)}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _cell(value: Any, column: str) -> str:
    if isinstance(value, float) and (
        column.endswith(("rate", "_low", "_high")) or column.startswith(("acceptance", "diff"))
    ):
        return _percent(value)
    return _number(value)


def _overview_charts(overview: dict[str, Any], daily: list[dict[str, Any]]) -> str:
    funnel = [
        ("Conversations", overview["conversations"]),
        ("Engaged", overview["engaged_conversations"]),
        ("Leads", overview["leads"]),
        ("MQL", overview["mql"]),
        ("SQL", overview["sql"]),
        ("Accepted by sales", overview["accepted_by_sales"]),
        ("Rejected by sales", overview["rejected_by_sales"]),
        ("Handoffs", overview["handoffs"]),
    ]
    rates = [
        (label, value)
        for label, value in (
            ("Containment", overview["containment_rate"]),
            ("Fallback", overview["fallback_rate"]),
            ("Handoff", overview["handoff_rate"]),
        )
        if value is not None
    ]
    per_day = [(row["day"][5:], row["conversations"]) for row in daily]
    return (
        '<section class="charts">'
        + _figure(charts.bar_chart("From conversation to customer", funnel), "overview-funnel")
        + _figure(charts.bar_chart("Rates", rates, percent=True), "rates")
        + _figure(charts.column_chart("Conversations per day", per_day), "daily")
        + "</section>"
    )


def _figure(svg: str, name: str) -> str:
    return f'<figure class="chart-box" data-chart="{name}">{svg}</figure>'


def _csat_section(csat: list[dict[str, Any]]) -> str:
    figures = "".join(
        _figure(
            charts.column_chart(
                f"CSAT {'at the end' if row['moment'] == 'end' else 'after a handoff'} (1-5)",
                [(str(r), row[f"rated_{r}"]) for r in range(1, 6)] if row["ratings"] else [],
            ),
            f"csat-{row['moment']}",
        )
        for row in csat
    )
    columns = ("moment", "ratings", "average", "satisfied_rate") + tuple(
        f"rated_{r}" for r in range(1, 6)
    )
    return (
        '<section><h2>Satisfaction</h2><div class="charts">'
        + figures
        + "</div>"
        + _table(csat, columns, "Ratings")
        + "</section>"
    )


def _funnel_section(funnel: list[dict[str, Any]]) -> str:
    rows = [
        (r["question"], [r["answered"], r["declined"], r["dropped_off"], r["skipped"]])
        for r in funnel
    ]
    columns = (
        "question",
        "asked",
        "answered",
        "declined",
        "dropped_off",
        "skipped",
        "reached_mql",
        "reached_sql",
        "accepted",
    )
    return (
        "<section><h2>Qualification: per question</h2>"
        + _figure(
            charts.stacked_bar_chart("Asked questions and what came of them", rows, FUNNEL_SERIES),
            "qualification",
        )
        + _table(funnel, columns, "Per question, with the outcome of the conversations asked")
        + "</section>"
    )


def _unanswered_section(unanswered: dict[str, Any]) -> str:
    clusters = unanswered["clusters"]
    bars = [(c["label"], c["count"]) for c in clusters[:15]]
    rows = [
        {
            "topic": c["label"],
            "count": c["count"],
            "questions": "; ".join(f"{t['text']} ({t['count']})" for t in c["texts"]),
        }
        for c in clusters
    ]
    return (
        "<section><h2>Questions the bot could not answer</h2>"
        f'<p class="note">{unanswered["total"]} unanswered: {unanswered["with_text"]} '
        f"with their text (kept under the visitor's consent), "
        f"{unanswered['without_consent']} counted only.</p>"
        + _table(unanswered["by_kind"], ("kind", "count"), "By kind")
        + _figure(charts.bar_chart("Unanswered questions by topic", bars), "unanswered")
        + _table(rows, ("topic", "count", "questions"), "Topics (texts with consent only)")
        + "</section>"
    )


def _scoring_section(scoring: dict[str, Any]) -> str:
    bands = [
        (
            f"{b['axis']} {b['band']}",
            b["acceptance_rate"],
            b["acceptance_low"],
            b["acceptance_high"],
        )
        for b in scoring["bands"]
        if b["acceptance_rate"] is not None
    ]
    band_columns = (
        "axis",
        "band",
        "verdicts",
        "accepted",
        "rejected",
        "acceptance_rate",
        "acceptance_low",
        "acceptance_high",
    )
    rule_columns = (
        "rule",
        "finding",
        "verdicts_with",
        "acceptance_with",
        "verdicts_without",
        "acceptance_without",
        "difference_low",
        "difference_high",
    )
    judged = [r for r in scoring["rules"] if r["verdicts_with"]]
    findings = "".join(
        f"<li><strong>{escape(finding)}:</strong> "
        f"{escape(', '.join(r['rule'] for r in judged if r['finding'] == finding) or 'none')}"
        "</li>"
        for finding in FINDINGS
    )
    return (
        f"<section><h2>Scoring feedback ({scoring['verdicts']} verdicts by sales)</h2>"
        f'<ul class="findings">{findings}</ul>'
        + _figure(
            charts.interval_chart("Acceptance by score band (95 % interval)", bands),
            "scoring-bands",
        )
        + _table(scoring["bands"], band_columns, "Per score band (score at the verdict)")
        + _table(
            judged, rule_columns, "Per scoring rule: acceptance with the rule against without it"
        )
        + "</section>"
    )


def _experiment_chart(name: str, rows: list[dict[str, Any]]) -> str:
    marks = [
        (f"{r['variant']} → {outcome}", r[f"{key}_rate"], r[f"{key}_low"], r[f"{key}_high"])
        for key, outcome in (("lead", "lead"), ("mql", "MQL"))
        for r in rows
        if r[f"{key}_rate"] is not None
    ]
    title = f"{name}: conversion per variant (95 % interval)"
    return _figure(charts.interval_chart(title, marks), "experiments")


def _experiments_section(experiments: list[dict[str, Any]]) -> str:
    names = list(dict.fromkeys(r["experiment"] for r in experiments))
    figures = "".join(
        _experiment_chart(name, [r for r in experiments if r["experiment"] == name])
        for name in names
    ) or _figure(charts.interval_chart("Conversion per variant", []), "experiments")
    columns = (
        "experiment",
        "variant",
        "weight",
        "running",
        "conversations",
        "leads",
        "lead_rate",
        "lead_low",
        "lead_high",
        "mql",
        "mql_rate",
        "mql_low",
        "mql_high",
    )
    return (
        "<section><h2>A/B tests of messages</h2>"
        + f'<div class="charts">{figures}</div>'
        + _table(experiments, columns, "Conversations that saw the message, per variant")
        + "</section>"
    )


def render(report: dict[str, Any], choices: dict[str, list[str]], error: str = "") -> str:
    filters = report["filters"]
    notice = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        "<header><h1>Lotse insights</h1>"
        '<a href="/console/">Back to the console</a></header>'
        + notice
        + _form(filters, choices)
        + _downloads(filters)
        + _tiles(report["overview"], report["csat"])
        + _overview_charts(report["overview"], report["daily"])
        + _csat_section(report["csat"])
        + _funnel_section(report["funnel"])
        + _unanswered_section(report["unanswered"])
        + _scoring_section(report["scoring"])
        + _experiments_section(report["experiments"])
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Lotse insights</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/console/static/insights.css"></head>'
        f"<body><main>{body}</main></body></html>"
    )
