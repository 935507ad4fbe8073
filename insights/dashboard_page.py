"""The insights dashboard as one HTML page, rendered on the server from a report.

`render(report, choices, error, texts)` returns the page: the filter form, the key
figures, SVG charts (`insights/charts.py`) and the tables behind them, with links to
the same data as JSON and CSV (`/console/api/insights`). Every text from the data
(channel names, question keys, unanswered questions a visitor typed) is HTML-escaped.
No script and no inline style: the console's Content-Security-Policy allows neither.

The page speaks the language of `texts` (a `lotse.translations.Translator` over the
console's catalogue, chosen by the console from the staff member's setting or the
browser's): every word is a msgid of that catalogue (`say("English text")`), numbers,
percentages and days are in its format (Babel). Codes of the data that have words
(moments, kinds, axes, findings, question keys) are shown in words, the scoring rules
by the words the caller gives (`rules`); `data-metric` and `data-chart` keep the
English names for scripts and tests. Without `texts`: English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from insights import charts
from insights.report_tables import SECTIONS
from lotse.translations import N_, Translator

API = "/console/api/insights"
FUNNEL_SERIES = (N_("answered"), N_("declined"), N_("dropped off"), N_("skipped"))
FINDINGS = (
    N_("predicts acceptance"), N_("predicts rejection"), N_("no clear link"),
    N_("too few verdicts"),
)  # fmt: skip
# The codes of the worded columns, in words (the codes are the msgids).
CODES = (
    N_("end"), N_("handoff"), N_("fit"), N_("interest"), N_("nlu_fallback"),
    N_("out_of_scope"), N_("out_of_depth"), N_("document_question"),
)  # fmt: skip
# Table cells that hold a code with words in the catalogue (the rest is data as it is).
UNKNOWN = "unknown"  # a channel, language or score band nobody knows: worded too
# What visitors wrote (the unanswered questions, their clusters' words): data, marked
# translate="no", in whatever language it was written.
QUOTED_COLUMNS = frozenset({"topic", "questions"})
WORDED_COLUMNS = frozenset({"moment", "kind", "axis", "finding", "running", "question"})
# Column headers: the column's name in words (the English msgid); rated_1 .. rated_5
# are "rated {stars}".
HEADERS = {
    "moment": N_("moment"),
    "ratings": N_("ratings"),
    "average": N_("average"),
    "satisfied_rate": N_("satisfied rate"),
    "question": N_("question"),
    "asked": N_("asked"),
    "answered": N_("answered"),
    "declined": N_("declined"),
    "dropped_off": N_("dropped off"),
    "skipped": N_("skipped"),
    "reached_mql": N_("reached mql"),
    "reached_sql": N_("reached sql"),
    "accepted": N_("accepted"),
    "kind": N_("kind"),
    "count": N_("count"),
    "topic": N_("topic"),
    "questions": N_("questions"),
    "axis": N_("axis"),
    "band": N_("band"),
    "verdicts": N_("verdicts"),
    "rejected": N_("rejected"),
    "acceptance_rate": N_("acceptance rate"),
    "acceptance_low": N_("acceptance low"),
    "acceptance_high": N_("acceptance high"),
    "rule": N_("rule"),
    "finding": N_("finding"),
    "verdicts_with": N_("verdicts with"),
    "acceptance_with": N_("acceptance with"),
    "verdicts_without": N_("verdicts without"),
    "acceptance_without": N_("acceptance without"),
    "difference_low": N_("difference low"),
    "difference_high": N_("difference high"),
    "experiment": N_("experiment"),
    "variant": N_("variant"),
    "weight": N_("weight"),
    "running": N_("running"),
    "conversations": N_("conversations"),
    "leads": N_("leads"),
    "lead_rate": N_("lead rate"),
    "lead_low": N_("lead low"),
    "lead_high": N_("lead high"),
    "mql": N_("mql"),
    "mql_rate": N_("mql rate"),
    "mql_low": N_("mql low"),
    "mql_high": N_("mql high"),
}
PLAIN = Translator("en", Path("."), "")  # English without a catalogue


def _percent(value: float | None, say: Translator) -> str:
    if value is None:
        return "–"
    return say.percent(value, 1) if say.language != "en" else f"{value * 100:.1f} %"


def _number(value: Any, say: Translator) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return escape(say("yes") if value else say("no"))
    if isinstance(value, float):
        return say.number(value, 2) if say.language != "en" else f"{value:.2f}"
    if isinstance(value, int) and say.language != "en":
        return say.number(value)
    return escape(str(value))


def _wait(seconds: float | None, say: Translator) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return say("{seconds} s", seconds=_number(round(seconds), say))
    return say("{minutes} min", minutes=_decimal(seconds / 60, say))


def _decimal(value: float, say: Translator) -> str:
    return say.number(value, 1) if say.language != "en" else f"{value:.1f}"


def _query(filters: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in filters.items() if v})


def _options(name: str, chosen: str | None, values: Sequence[str], say: Translator) -> str:
    everything = escape(say("all"))
    options = [f'<option value=""{" selected" if not chosen else ""}>{everything}</option>']
    for value in values:
        selected = " selected" if value == chosen else ""
        label = say(value) if value == UNKNOWN else value  # a channel's name is data
        options.append(f'<option value="{escape(value)}"{selected}>{escape(label)}</option>')
    return f'<select name="{name}" id="filter-{name}">{"".join(options)}</select>'


def _form(filters: dict[str, Any], choices: dict[str, list[str]], say: Translator) -> str:
    channel = _options("channel", filters["channel"], choices["channels"], say)
    language = _options("language", filters["language"], choices["languages"], say)
    return (
        '<form class="filters" method="get" action="/console/insights">'
        f'<label>{escape(say("From"))} <input type="date" name="from" '
        f'value="{escape(filters["from"])}"></label>'
        f'<label>{escape(say("To"))} <input type="date" name="to" '
        f'value="{escape(filters["to"])}"></label>'
        f"<label>{escape(say('Channel'))} {channel}</label>"
        f"<label>{escape(say('Language'))} {language}</label>"
        f'<button type="submit">{escape(say("Show"))}</button></form>'
    )


def _downloads(filters: dict[str, Any], say: Translator) -> str:
    query = _query(filters)
    links = [f'<a href="{API}?{escape(query)}">JSON</a>']
    links += [
        f'<a href="{API}/{section}.csv?{escape(query)}">{section}.csv</a>' for section in SECTIONS
    ]
    return f'<p class="downloads">{escape(say("Download:"))} {" · ".join(links)}</p>'


def _tiles(overview: dict[str, Any], csat: list[dict[str, Any]], say: Translator) -> str:
    end = next((c for c in csat if c["moment"] == "end"), {})
    handoff = next((c for c in csat if c["moment"] == "handoff"), {})
    tiles = [
        (N_("Conversations"), _number(overview["conversations"], say)),
        (N_("Engaged"), _number(overview["engaged_conversations"], say)),
        (N_("Leads"), _number(overview["leads"], say)),
        (N_("MQL"), _number(overview["mql"], say)),
        (N_("SQL"), _number(overview["sql"], say)),
        (N_("Accepted by sales"), _number(overview["accepted_by_sales"], say)),
        (N_("Rejected by sales"), _number(overview["rejected_by_sales"], say)),
        (N_("Handoffs"), _number(overview["handoffs"], say)),
        (N_("Containment rate"), _percent(overview["containment_rate"], say)),
        (N_("Fallback rate"), _percent(overview["fallback_rate"], say)),
        (N_("Handoff rate"), _percent(overview["handoff_rate"], say)),
        (N_("Median wait until claimed"), _wait(overview["median_wait_seconds"], say)),
        (N_("CSAT (end)"), _csat_figure(end, say)),
        (N_("CSAT (after handoff)"), _csat_figure(handoff, say)),
    ]
    items = "".join(
        f'<div class="tile" data-metric="{escape(label)}"><span class="figure">{value}</span>'
        f'<span class="label">{escape(say(label))}</span></div>'
        for label, value in tiles
    )
    return f'<section class="tiles">{items}</section>'


def _csat_figure(row: dict[str, Any], say: Translator) -> str:
    if not row or row.get("average") is None:
        return "–"
    return f"{_number(float(row['average']), say)} ({_number(row['ratings'], say)})"


def _table(
    rows: list[dict[str, Any]], columns: Sequence[str], caption: str, say: Translator
) -> str:
    if not rows:
        return f'<p class="empty">{escape(say("{caption}: no data", caption=caption))}</p>'
    head = "".join(f"<th>{escape(_header(c, say))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c), c, say)}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _header(column: str, say: Translator) -> str:
    if column.startswith("rated_"):
        return say("rated {stars}", stars=column.removeprefix("rated_"))
    return say(HEADERS.get(column, column.replace("_", " ")))


def _cell(value: Any, column: str, say: Translator) -> str:
    if isinstance(value, float) and (
        column.endswith(("rate", "_low", "_high")) or column.startswith(("acceptance", "diff"))
    ):
        return _percent(value, say)
    if isinstance(value, str) and column in QUOTED_COLUMNS:
        return f'<span translate="no">{escape(value)}</span>'
    if isinstance(value, str) and (column in WORDED_COLUMNS or value == UNKNOWN):
        return escape(say(value))
    return _number(value, say)


def _overview_charts(overview: dict[str, Any], daily: list[dict[str, Any]], say: Translator) -> str:
    funnel = [
        (say("Conversations"), overview["conversations"]),
        (say("Engaged"), overview["engaged_conversations"]),
        (say("Leads"), overview["leads"]),
        (say("MQL"), overview["mql"]),
        (say("SQL"), overview["sql"]),
        (say("Accepted by sales"), overview["accepted_by_sales"]),
        (say("Rejected by sales"), overview["rejected_by_sales"]),
        (say("Handoffs"), overview["handoffs"]),
    ]
    rates = [
        (label, value)
        for label, value in (
            (say("Containment"), overview["containment_rate"]),
            (say("Fallback"), overview["fallback_rate"]),
            (say("Handoff"), overview["handoff_rate"]),
        )
        if value is not None
    ]
    per_day = [(_day(row["day"], say), row["conversations"]) for row in daily]
    funnel_chart = charts.bar_chart(say("From conversation to customer"), funnel, texts=say)
    return (
        '<section class="charts">'
        + _figure(funnel_chart, "overview-funnel")
        + _figure(charts.bar_chart(say("Rates"), rates, percent=True, texts=say), "rates")
        + _figure(charts.column_chart(say("Conversations per day"), per_day, texts=say), "daily")
        + "</section>"
    )


def _day(iso_day: str, say: Translator) -> str:
    """A day of the chart's axis: "12-07" in English, "07.12." in German."""
    if say.language == "en":
        return iso_day[5:]
    return f"{iso_day[8:10]}.{iso_day[5:7]}."


def _figure(svg: str, name: str) -> str:
    return f'<figure class="chart-box" data-chart="{name}">{svg}</figure>'


def _csat_section(csat: list[dict[str, Any]], say: Translator) -> str:
    figures = "".join(
        _figure(
            charts.column_chart(
                say("CSAT at the end (1-5)") if row["moment"] == "end"
                else say("CSAT after a handoff (1-5)"),
                [(str(r), row[f"rated_{r}"]) for r in range(1, 6)] if row["ratings"] else [],
                texts=say,
            ),
            f"csat-{row['moment']}",
        )
        for row in csat
    )  # fmt: skip
    columns = ("moment", "ratings", "average", "satisfied_rate") + tuple(
        f"rated_{r}" for r in range(1, 6)
    )
    return (
        f'<section><h2>{escape(say("Satisfaction"))}</h2><div class="charts">'
        + figures
        + "</div>"
        + _table(csat, columns, say("Ratings"), say)
        + "</section>"
    )


def _funnel_section(funnel: list[dict[str, Any]], say: Translator) -> str:
    rows = [
        (say(r["question"]), [r["answered"], r["declined"], r["dropped_off"], r["skipped"]])
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
    series = [say(name) for name in FUNNEL_SERIES]
    title = say("Asked questions and what came of them")
    return (
        f"<section><h2>{escape(say('Qualification: per question'))}</h2>"
        + _figure(charts.stacked_bar_chart(title, rows, series, texts=say), "qualification")
        + _table(
            funnel, columns, say("Per question, with the outcome of the conversations asked"), say
        )  # fmt: skip
        + "</section>"
    )


def _unanswered_section(unanswered: dict[str, Any], say: Translator) -> str:
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
    note = say(
        "{total} unanswered: {with_text} with their text (kept under the visitor's consent), "
        "{without_consent} counted only.",
        total=_number(unanswered["total"], say), with_text=_number(unanswered["with_text"], say),
        without_consent=_number(unanswered["without_consent"], say),
    )  # fmt: skip
    return (
        f"<section><h2>{escape(say('Questions the bot could not answer'))}</h2>"
        f'<p class="note">{escape(note)}</p>'
        + _table(unanswered["by_kind"], ("kind", "count"), say("By kind"), say)
        + _figure(
            charts.bar_chart(say("Unanswered questions by topic"), bars, texts=say, quoted=True),
            "unanswered",
        )  # fmt: skip
        + _table(
            rows, ("topic", "count", "questions"), say("Topics (texts with consent only)"), say
        )  # fmt: skip
        + "</section>"
    )


def _scoring_section(scoring: dict[str, Any], say: Translator, rules: Mapping[str, str]) -> str:
    bands = [
        (
            f"{say(b['axis'])} {say(b['band']) if b['band'] == UNKNOWN else b['band']}",
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
    judged = [{**r, "rule": rules.get(r["rule"], r["rule"])}
              for r in scoring["rules"] if r["verdicts_with"]]  # fmt: skip
    findings = "".join(
        f"<li><strong>{escape(say(finding))}:</strong> "
        f"{escape(', '.join(r['rule'] for r in judged if r['finding'] == finding) or say('none'))}"
        "</li>"
        for finding in FINDINGS
    )
    heading = say("Scoring feedback ({verdicts} verdicts by sales)",
                  verdicts=_number(scoring["verdicts"], say))  # fmt: skip
    return (
        f"<section><h2>{escape(heading)}</h2>"
        f'<ul class="findings">{findings}</ul>'
        + _figure(
            charts.interval_chart(
                say("Acceptance by score band (95 % interval)"), bands, texts=say
            ),  # fmt: skip
            "scoring-bands",
        )
        + _table(scoring["bands"], band_columns, say("Per score band (score at the verdict)"), say)
        + _table(
            judged,
            rule_columns,
            say("Per scoring rule: acceptance with the rule against without it"),
            say,
        )  # fmt: skip
        + "</section>"
    )


def _experiment_chart(name: str, rows: list[dict[str, Any]], say: Translator) -> str:
    marks = [
        (f"{r['variant']} → {outcome}", r[f"{key}_rate"], r[f"{key}_low"], r[f"{key}_high"])
        for key, outcome in (("lead", say("lead")), ("mql", say("MQL")))
        for r in rows
        if r[f"{key}_rate"] is not None
    ]
    title = say("{experiment}: conversion per variant (95 % interval)", experiment=name)
    return _figure(charts.interval_chart(title, marks, texts=say), "experiments")


def _experiments_section(experiments: list[dict[str, Any]], say: Translator) -> str:
    names = list(dict.fromkeys(r["experiment"] for r in experiments))
    figures = "".join(
        _experiment_chart(name, [r for r in experiments if r["experiment"] == name], say)
        for name in names
    ) or _figure(charts.interval_chart(say("Conversion per variant"), [], texts=say),
                 "experiments")  # fmt: skip
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
        f"<section><h2>{escape(say('A/B tests of messages'))}</h2>"
        + f'<div class="charts">{figures}</div>'
        + _table(
            experiments, columns, say("Conversations that saw the message, per variant"), say
        )  # fmt: skip
        + "</section>"
    )


def render(  # `error`: already in the language of `texts`
    report: dict[str, Any],
    choices: dict[str, list[str]],
    error: str = "",
    texts: Translator = PLAIN,
    rules: Mapping[str, str] | None = None,
) -> str:
    """The page; `rules`: the scoring rules in the language of `texts`
    (`scoring_feedback.rule_words`), a rule without words is shown by its key."""
    say = texts
    filters = report["filters"]
    notice = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<header><h1>{escape(say('Lotse insights'))}</h1>"
        f'<a href="/console/">{escape(say("Back to the console"))}</a></header>'
        + notice
        + _form(filters, choices, say)
        + _downloads(filters, say)
        + _tiles(report["overview"], report["csat"], say)
        + _overview_charts(report["overview"], report["daily"], say)
        + _csat_section(report["csat"], say)
        + _funnel_section(report["funnel"], say)
        + _unanswered_section(report["unanswered"], say)
        + _scoring_section(report["scoring"], say, rules or {})
        + _experiments_section(report["experiments"], say)
    )
    return (
        f'<!doctype html><html lang="{say.language}"><head><meta charset="utf-8">'
        f"<title>{escape(say('Lotse insights'))}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/console/static/insights.css"></head>'
        f"<body><main>{body}</main></body></html>"
    )
