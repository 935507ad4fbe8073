"""The console's insights: the dashboard page and its data as JSON and CSV, for admins.

- `GET /console/insights`: the dashboard, rendered on the server (`insights/
  dashboard_page.py`); without a session it sends the browser to the console's login,
  a staff member who is not an admin gets 403.
- `GET /console/api/insights`: the whole report as JSON (`insights/report.py`).
- `GET /console/api/insights/<section>.csv`: one table of it as CSV.

All take the filters `from`, `to` (days, UTC), `channel` and `language`
(`insights/filters.py`); a bad filter is a 422 naming it (on the page: the message
above the default range). The page speaks the staff member's console language, else
the browser's (Accept-Language; `console/i18n.py`); JSON and CSV keep English keys.
The report runs in a thread: its queries are synchronous.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime, timezone
from html import escape
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.i18n import request_language, translator, wording
from console.web import COOKIE, error
from handoff.auth import InvalidSession
from insights.dashboard_page import render
from insights.filters import FilterError, Filters
from insights.report import Insights
from insights.report_tables import SECTIONS, tables
from insights.scoring_feedback import rule_words
from lotse.translations import N_, Translator

PARAMETERS = ("from", "to", "channel", "language")
# The filters' names as the page's form shows them; and the filters' complaints
# (insights/filters.py), msgids of the catalogue.
FIELDS = {"from": N_("From"), "to": N_("To"), "channel": N_("Channel"), "language": N_("Language")}
COMPLAINTS = (
    N_("`from` must not be after `to`"),
    N_("the date range may span at most {days} days"),
    N_("`{what}` must be a day like 2026-11-26"),
    N_("`{what}` must be a day between {earliest} and {latest}"),
    N_("`{what}` must be a name like 'website' or 'de'"),
)


def filters_of(request: Request) -> Filters:
    args = {name: request.args.get(name) for name in PARAMETERS if request.args.get(name)}
    return Filters.parse(args, datetime.now(timezone.utc).date())


def to_csv(rows: list[dict[str, Any]]) -> str:
    """A table as CSV; a cell a spreadsheet would run as a formula gets a leading '."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def register(app: Sanic) -> None:
    def insights() -> Insights:
        """The report's source; the handlers answer 503 first when there is none."""
        found: Insights | None = app.ctx.console.insights
        if found is None:
            raise LookupError("the console runs without insights")
        return found

    async def report(filters: Filters) -> dict[str, Any]:
        return await asyncio.to_thread(insights().report, filters)

    async def page(request: Request) -> HTTPResponse:
        session = await _session(app, request)
        if session is None:
            return response.redirect("/console/?next=insights")
        texts = translator(request_language(request, session.language))
        if session.role != "admin":
            return _page_message(texts("Only an admin may see the insights."), texts, 403)
        if app.ctx.console.insights is None:
            return _page_message(texts("The insights are not available."), texts, 503)
        problem = ""
        try:
            filters = filters_of(request)
        except FilterError as bad:
            problem = _in_words(bad, texts)
            filters = Filters.parse({}, datetime.now(timezone.utc).date())
        data = await report(filters)
        choices = await asyncio.to_thread(insights().choices)
        rules = rule_words(insights().model, wording(texts))
        page = await asyncio.to_thread(render, data, choices, problem, texts, rules)
        return response.html(page)

    async def as_json(request: Request) -> HTTPResponse:
        if (refused := _refusal(app, request)) is not None:
            return refused
        return response.json(await report(filters_of(request)))

    async def as_csv(request: Request, table: str) -> HTTPResponse:
        if (refused := _refusal(app, request)) is not None:
            return refused
        name = table.removesuffix(".csv")
        if not table.endswith(".csv") or name not in SECTIONS:
            return error(404, f"no such table; one of: {', '.join(SECTIONS)} (.csv)")
        rows = tables(await report(filters_of(request)))[name]
        return response.text(
            to_csv(rows),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="insights-{name}.csv"'},
        )

    app.add_route(page, "/console/insights", methods=["GET"], name="insights_page")
    app.add_route(as_json, "/console/api/insights", methods=["GET"], name="insights_json")
    app.add_route(
        as_csv, "/console/api/insights/<table:str>", methods=["GET"], name="insights_csv"
    )


def _in_words(bad: FilterError, texts: Translator) -> str:
    """The filter's complaint in the page's language, the field named as the form does."""
    params = dict(bad.params)
    if "what" in params:
        params["what"] = texts(FIELDS.get(str(params["what"]), str(params["what"])))
    return texts(bad.template, **params)


def _page_message(text: str, texts: Translator, status: int) -> HTTPResponse:
    return response.html(
        f'<!doctype html><html lang="{texts.language}"><meta charset="utf-8">'
        f"<p>{escape(text)}</p></html>",
        status=status,
    )


async def _session(app: Sanic, request: Request) -> Any:
    token = request.cookies.get(COOKIE) or ""
    try:
        return await asyncio.to_thread(app.ctx.console.auth.session, token)
    except InvalidSession:
        return None


def _refusal(app: Sanic, request: Request) -> HTTPResponse | None:
    """The API's session is checked by the console's middleware; here only the role."""
    if request.ctx.session.role != "admin":
        return error(403, "only an admin may see the insights")
    if app.ctx.console.insights is None:
        return error(503, "the insights are not available")
    return None
