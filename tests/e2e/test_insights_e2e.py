"""The insights dashboard end to end: known conversations through the bot, every figure.

A stack of its own (fresh database, test ports 16xxx) so no other test's
conversations count. Visitors talk over the REST channel and Telegram (signed, at the
fake platform), a colleague claims and hands back a handoff in the console, sales
accepts and rejects leads with `lotse leads`, ratings are the bot's own buttons; then
the JSON report, every CSV table and the dashboard page are checked against the
counts these conversations must give. A browser opens the dashboard and finds its
charts drawn with data.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from crm_adapter.scoring_model import load_scoring_model
from dialogue.experiments import load_experiments
from insights.report_tables import tables
from insights.scoring_feedback import model_rules
from insights.stats import wilson_interval
from lotse.settings import Settings
from tests.conftest import IN_OFFICE_HOURS, messenger_environment, set_clock
from tests.e2e.test_messenger_channels import say, someone
from tests.support import fake_messengers as fm
from tests.support.console_client import PASSWORD, add_users, logged_in
from tests.support.mailbox import code_mailed_to
from tests.support.rest_client import Visitor
from wiring.services import services_for

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90
# The need is the presses of the price question: the first question is the company.
QUALIFICATION_DE = [
    "Ja",
    "Müller Metallbau GmbH",
    "rund 60 Leute",
    "Metallbau",
    "Ich bin Geschäftsführer",
    "33602 Bielefeld",
    "in zwei Monaten",
    "Ja",
    "Anna Muster",
]
QUALIFICATION_EN = [
    "yes",
    "Miller Metalworks GmbH",
    "about sixty people",
    "metalworking",
    "I'm the managing director",
    "33602 Bielefeld, Germany",
    "in two months",
    "yes",
    "Anna Miller",
]
WEATHER = "Wie wird das Wetter morgen?"  # an out_of_scope training example
GIBBERISH = "zzkx qwv plimf"


@dataclass(frozen=True)
class World:
    settings: Settings
    fake: fm.FakeMessengers
    clock: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from ops.runner import Stack
    from ops.training import ensure_model

    data_dir = tmp_path_factory.mktemp("insights-stack")
    fake = fm.FakeMessengers()
    fake.__enter__()
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'lotse.db'}",
        rasa_port=16005,
        action_port=16055,
        web_port=16080,
        host="127.0.0.1",
        console_port=16090,
    )
    set_clock(data_dir / "clock", IN_OFFICE_HOURS)
    running = Stack(
        settings,
        ensure_model(),
        data_dir=data_dir,
        log_file=data_dir / "stack.log",
        extra_env={
            "LOTSE_TEST_CLOCK_FILE": str(data_dir / "clock"),
            "LOTSE_RATE_VISITOR": "off",
            "LOTSE_RATE_IP": "off",
            "LOTSE_RATE_ISSUE": "off",
            **messenger_environment(fake, settings.rasa_url),
        },
    )
    running.start()
    try:
        running.wait_ready()
        add_users(settings.database_url)
        yield World(settings, fake, data_dir / "clock")
    finally:
        running.stop()
        fake.__exit__(None, None, None)


def rest_visitor(world: World, language: str) -> Visitor:
    metadata = {"language": language, "visitor_id": uuid.uuid4().hex}
    return Visitor(world.settings.rasa_url, metadata=metadata)


def talk(visitor: Visitor, lines: list[str]) -> list[str]:
    return [visitor.joined(line) for line in lines]


def leads_command(world: World, *args: str) -> None:
    env = {**os.environ, "LOTSE_DATABASE_URL": world.settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "ops.cli", "leads", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


@dataclass(frozen=True)
class Known:
    """The conversations made, by role in the scenario: their ids."""

    qualified_de: str  # A: price, full qualification, accepted by sales, weather twice, 5
    declined_de: str  # B: price, declines the company, leaves at the employees
    handoff_en: str  # C: not understood twice, a handoff claimed after 90 s, rated 4
    greeting_de: str  # D: hello and goodbye only, rated 2
    telegram: str  # E: the price on Telegram
    qualified_en: str  # G: English full qualification, rejected by sales


@pytest.fixture(scope="module")
def known(world: World) -> Known:
    a = rest_visitor(world, "de")
    assert "Anfrage an unseren Vertrieb" in a.joined("Was kostet eine P400?")
    talk(a, QUALIFICATION_DE)
    email_a = f"anna.{uuid.uuid4().hex[:6]}@mueller-metallbau.example"
    assert "Stimmt das so?" in a.joined(email_a)
    assert "Vertrieb" in a.joined("Ja, passt so")
    assert "bestätigt" in a.joined(code_mailed_to(world.settings, email_a, set()))
    talk(a, [WEATHER, WEATHER])
    assert "Wie zufrieden" in a.joined("Tschüss")
    assert "Bewertung" in a.joined('/rate{"rating": "end:5"}')

    b = rest_visitor(world, "de")
    b.joined("Was kostet eine P800?")
    assert "Unternehmen" in " ".join(talk(b, ["Ja"]))
    assert "Mitarbeiter" in b.joined("Das möchte ich nicht sagen")

    c = rest_visitor(world, "en")
    set_clock(world.clock, IN_OFFICE_HOURS)
    assert "put it differently" in c.joined(GIBBERISH)
    assert "queue" in c.joined(GIBBERISH)
    handoff = services_for(world.settings.database_url).handoffs.open_handoff(c.sender)
    assert handoff is not None
    set_clock(world.clock, IN_OFFICE_HOURS + timedelta(seconds=WAIT_SECONDS))
    anna = logged_in(console_url(world), "anna")
    assert anna.post(f"/console/api/handoffs/{handoff.id}/claim").ok
    assert anna.post(f"/console/api/handoffs/{handoff.id}/hand-back").ok
    assert "Thank you" in c.joined('/rate{"rating": "handoff:4"}')

    d = rest_visitor(world, "de")
    d.joined("Hallo")
    assert "Wie zufrieden" in d.joined("Tschüss")
    d.joined('/rate{"rating": "end:2"}')

    e = someone("telegram")
    say(world.settings, world.fake, e, "Was kostet eine P400?")
    world.fake.wait_for("telegram", e.recipient)

    g = rest_visitor(world, "en")
    assert "enquiry" in g.joined("How much does a P400 cost?")
    talk(g, QUALIFICATION_EN)
    email_g = f"anna.miller.{uuid.uuid4().hex[:6]}@miller-metalworks.example"
    g.joined(email_g)
    assert "sales team" in g.joined("yes, that's right")
    assert "confirmed" in g.joined(code_mailed_to(world.settings, email_g, set()))

    leads_command(world, "accept", email_a, "--reason", "fits, budget confirmed")
    leads_command(world, "reject", email_g, "--reason", "no budget this year")
    return Known(a.sender, b.sender, c.sender, d.sender, e.conversation_id, g.sender)


def console_url(world: World) -> str:
    return f"http://127.0.0.1:{world.settings.console_port}"


VISITOR_MESSAGES = 17 + 3 + 3 + 3 + 1 + 13  # A B C D E G, rating clicks and codes included


# The handoff's times come from the test clock (2026-11-24), the conversations' from
# the real one: a range from November 2026 to today holds both.
SINCE = "from=2026-11-01"


def report(world: World, query: str = "") -> dict[str, Any]:
    admin = logged_in(console_url(world), "admin")
    since = "" if "from=" in query else f"{SINCE}&"
    reply = admin.get(f"/console/api/insights?{since}{query}")
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.fixture(scope="module")
def figures(world: World, known: Known) -> dict[str, Any]:
    """The report once every event has reached the event log (written in the background)."""
    deadline = time.monotonic() + 60
    while True:
        found = report(world)
        if found["overview"]["visitor_messages"] >= VISITOR_MESSAGES:
            return found
        assert time.monotonic() < deadline, found["overview"]
        time.sleep(0.3)


def test_overview_counts_every_conversation_lead_and_handoff(figures, known):
    overview = dict(figures["overview"])
    wait = overview.pop("median_wait_seconds")
    # The test clock runs on from each moment set: the request and the claim each come a
    # little after theirs.
    assert abs(wait - WAIT_SECONDS) < 5
    assert overview == {
        "conversations": 6,
        "engaged_conversations": 5,  # all but hello-and-goodbye
        "visitor_messages": VISITOR_MESSAGES,
        "leads": 2,
        "mql": 2,
        "sql": 1,  # accepting a lead makes it sales qualified
        "accepted_by_sales": 1,
        "rejected_by_sales": 1,
        "handoffs": 1,
        "handoffs_claimed": 1,
        "conversations_with_handoff": 1,
        "containment_rate": 5 / 6,
        "fallback_rate": 2 / VISITOR_MESSAGES,
        "handoff_rate": 1 / 6,
    }
    assert sum(day["conversations"] for day in figures["daily"]) == 6
    assert sum(day["with_handoff"] for day in figures["daily"]) == 1


def test_csat_after_goodbye_and_after_the_handoff(figures):
    end, handoff = figures["csat"]
    assert end == {
        "moment": "end",
        "ratings": 2,
        "average": 3.5,
        "satisfied_rate": 0.5,
        "rated_1": 0,
        "rated_2": 1,
        "rated_3": 0,
        "rated_4": 0,
        "rated_5": 1,
    }
    assert handoff == {
        "moment": "handoff",
        "ratings": 1,
        "average": 4.0,
        "satisfied_rate": 1.0,
        "rated_1": 0,
        "rated_2": 0,
        "rated_3": 0,
        "rated_4": 1,
        "rated_5": 0,
    }


def step(
    question: str,
    asked: int,
    answered: int,
    declined: int = 0,
    dropped: int = 0,
    mql: int = 2,
    sql: int = 1,
    accepted: int = 1,
) -> dict[str, Any]:
    return {
        "question": question,
        "asked": asked,
        "answered": answered,
        "declined": declined,
        "dropped_off": dropped,
        "skipped": 0,
        "reached_mql": mql,
        "reached_sql": sql,
        "accepted": accepted,
    }


def test_the_qualification_funnel_per_question_with_outcomes(figures):
    # The need came with the price question each time: never asked.
    assert figures["funnel"] == [
        step("company", 3, 2, declined=1),
        step("employees", 3, 2, dropped=1),
        # A company's name is not taken for its industry: both visitors are asked.
        *(
            step(question, 2, 2)
            for question in ("industry", "role", "location", "timeline", "name", "email")
        ),  # fmt: skip
        step("consent", 2, 2),
    ]


def test_unanswered_questions_texts_only_with_consent(figures):
    assert figures["unanswered"] == {
        "total": 4,
        "by_kind": [{"kind": "nlu_fallback", "count": 2}, {"kind": "out_of_scope", "count": 2}],
        "with_text": 2,  # the weather, asked twice after the consent
        "without_consent": 2,  # the gibberish, before any consent
        "clusters": [
            {"label": "morgen / wetter", "count": 2, "texts": [{"text": WEATHER, "count": 2}]}
        ],
    }


def test_scoring_feedback_per_band_and_rule(figures):
    scoring = figures["scoring"]
    assert scoring["verdicts"] == 2
    bands = {(b["axis"], b["band"]): (b["verdicts"], b["accepted"]) for b in scoring["bands"]}
    assert bands == {
        ("fit", "0-59"): (0, 0),
        ("fit", "60-74"): (0, 0),
        ("fit", "75-100"): (2, 1),
        ("interest", "0-29"): (0, 0),
        ("interest", "30-59"): (2, 1),
        ("interest", "60-100"): (0, 0),
    }
    # Both judged leads: 60 people, metalworking, managing director, Bielefeld, a price
    # asked, a timeline of two months; every other rule of the model holds for neither.
    held = {"company size 50-70", "industry metalworking", "role owner_md",
            "region service area", "interest asked_price", "interest short_timeline"}  # fmt: skip
    every_rule = set(model_rules(load_scoring_model()))
    assert held <= every_rule and {r["rule"] for r in scoring["rules"]} == every_rule
    for row in scoring["rules"]:
        n_with, accepted = (2, 1) if row["rule"] in held else (0, 0)
        found = (row["verdicts_with"], row["accepted_with"], row["verdicts_without"],
                 row["accepted_without"], row["finding"])  # fmt: skip
        expected = (n_with, accepted, 2 - n_with, 1 - accepted, "too few verdicts")
        assert found == expected, row["rule"]


def test_ab_variants_count_exposures_and_conversions(figures, known):
    [experiment] = load_experiments()
    exposed = {  # every conversation that saw the enquiry offer, and whether it led to MQL
        known.qualified_de: True,
        known.declined_de: False,
        known.telegram: False,
        known.qualified_en: True,
    }
    rows = {r["variant"]: r for r in figures["experiments"]}
    assert set(rows) == {v.name for v in experiment.variants}
    for variant in experiment.variants:
        mine = [
            converted
            for cid, converted in exposed.items()
            if experiment.assign(cid) == variant.name
        ]
        row = rows[variant.name]
        assert (row["conversations"], row["leads"], row["mql"]) == (
            len(mine),
            sum(mine),
            sum(mine),
        ), variant.name
        interval = wilson_interval(sum(mine), len(mine))
        assert (row["lead_low"], row["lead_high"]) == (interval or (None, None))
        assert row["weight"] == variant.weight and row["running"] is True


def test_filters_by_channel_language_and_date(world, figures):
    telegram = report(world, "channel=telegram")["overview"]
    assert (telegram["conversations"], telegram["engaged_conversations"]) == (1, 1)
    assert telegram["leads"] == 0
    english = report(world, "language=en")["overview"]
    assert (english["conversations"], english["leads"], english["handoffs"]) == (2, 1, 1)
    old = report(world, "from=2020-01-01&to=2020-01-31")
    assert old["overview"]["conversations"] == 0 and old["funnel"] == []
    admin = logged_in(console_url(world), "admin")
    bad = admin.get("/console/api/insights?from=yesterday")
    assert bad.status_code == 422 and "from" in bad.json()["error"]


def test_every_table_as_csv_matches_the_json(world, figures):
    admin = logged_in(console_url(world), "admin")
    for section, rows in tables(figures).items():
        reply = admin.get(f"/console/api/insights/{section}.csv?{SINCE}")
        assert reply.status_code == 200, section
        assert reply.headers["content-type"].startswith("text/csv")
        parsed = list(csv.DictReader(io.StringIO(reply.text)))
        expected = [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
        assert parsed == expected, section
    assert admin.get("/console/api/insights/nothing.csv").status_code == 404


def test_only_admins_see_the_insights(world, figures):
    anna = logged_in(console_url(world), "anna")
    assert anna.get("/console/api/insights").status_code == 403
    assert requests.get(f"{console_url(world)}/console/api/insights", timeout=10).status_code == 401
    page = requests.get(f"{console_url(world)}/console/insights", timeout=10, allow_redirects=False)
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/console/")
    assert anna.get("/console/insights").status_code == 403


def test_the_page_shows_the_figures(world, figures):
    admin = logged_in(console_url(world), "admin")
    page = admin.get(f"/console/insights?language=en&{SINCE}")
    assert page.status_code == 200
    html = page.text
    assert 'data-metric="Conversations"><span class="figure">2</span>' in html
    assert 'data-metric="Handoffs"><span class="figure">1</span>' in html
    assert html.count('class="chart"') >= 9
    bad = admin.get("/console/insights?from=2026-13-01")
    assert bad.status_code == 200 and "must be a day" in bad.text


def test_the_dashboard_draws_its_charts_with_data_in_a_browser(world, figures, browser):
    page = browser.new_context().new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(30_000)
    page.goto(f"{console_url(world)}/console/insights")  # not logged in: to the login
    page.fill("#login-username", "admin")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/console/insights")  # and back to the dashboard
    page.goto(f"{console_url(world)}/console/")
    page.click("#insights-link")  # the console links to it for admins
    page.wait_for_url("**/console/insights")
    page.goto(f"{console_url(world)}/console/insights?{SINCE}")
    charts = page.locator("svg.chart")
    assert charts.count() >= 9
    for name in (
        "overview-funnel",
        "rates",
        "daily",
        "csat-end",
        "qualification",
        "unanswered",
        "scoring-bands",
        "experiments",
    ):
        figure = page.locator(f'[data-chart="{name}"] svg.chart')
        box = figure.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50, name
        assert figure.locator(".mark").count() > 0, name
    bars = page.locator('[data-chart="overview-funnel"] .mark')
    assert bars.first.get_attribute("data-value") == "6"
    assert bars.first.bounding_box()["width"] > 50  # drawn, not just present
