"""Handoff end to end in a real browser (Playwright driving Debian's Chromium).

A visitor in the website widget asks for a person; an agent logged into the console
in a second browser context claims the conversation; they write to each other; the
agent puts a prepared answer in the reply box ("/"), hands back and the bot answers
the next question. Then the same visitor path outside office hours, which ends in a
callback request. Visitor text with HTML and script shows inert in the console.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crm_adapter.port import Visit
from crm_adapter.store.crm_events import NOTIFY, EventOutbox
from lotse.database import make_engine
from lotse.settings import Settings
from tests.conftest import set_clock
from tests.support.console_client import PASSWORD, add_users
from wiring.services import services_for

pytestmark = [pytest.mark.browser, pytest.mark.model]

SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
TIMEOUT_MS = 30_000
HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>Danke!'


@pytest.fixture(scope="module")
def staff(stack: Settings) -> Settings:
    add_users(stack.database_url)
    return stack


def open_widget(
    browser: object, stack: Settings, locale: str = "en-US", site: str = "/"
) -> object:
    """The website at `site` in a new browser context, its chat widget opened."""
    page = browser.new_context(locale=locale).new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"http://{stack.host}:{stack.web_port}{site}")
    page.click(".lotse-launcher")
    page.wait_for_selector(".lotse-bot")
    return page


def visitor_says(page: object, text: str) -> None:
    page.fill(".lotse-input", text)  # type: ignore[attr-defined]
    page.press(".lotse-input", "Enter")  # type: ignore[attr-defined]


def wait_for_text(page: object, selector: str, text: str) -> None:
    page.locator(selector, has_text=text).first.wait_for()  # type: ignore[attr-defined]


def console_login(
    browser: object, stack: Settings, username: str, locale: str = "en-US"
) -> object:
    page = browser.new_context(locale=locale).new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"http://{stack.host}:{stack.console_port}/console/")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#queue")
    return page


def test_a_visitor_and_an_agent_talk_and_the_bot_takes_over_again(browser, staff):
    visitor = open_widget(browser, staff)
    visitor_says(visitor, "Ich möchte bitte mit einem Menschen sprechen")
    wait_for_text(visitor, ".lotse-bot", "Position 1")
    wait_for_text(visitor, ".lotse-status", "Position 1")

    agent = console_login(browser, staff, "anna")
    agent.locator(".queue-item").first.click()  # the queue shows it without a reload
    # The summary at the top: why it came, and what the visitor wrote.
    wait_for_text(agent, "#summary .summary-reason", "The visitor asked for a person")
    wait_for_text(agent, "#summary .summary-question", "mit einem Menschen sprechen")
    agent.click("#claim")
    wait_for_text(visitor, ".lotse-system", "Anna, Vertrieb hat das Gespräch übernommen")

    # A prepared answer: "/" and a search; Enter puts it in the reply box, not sent.
    agent.type("#reply-text", "/begr")
    wait_for_text(agent, "#canned-list .canned-item.chosen", "Begrüßung")
    agent.press("#reply-text", "Enter")
    assert agent.input_value("#reply-text") == (
        "Guten Tag, hier ist Anna Becker von Nordwerk. Wie kann ich Ihnen helfen?"
    )  # the visitor's name is not known yet: left out
    assert agent.locator("#canned-list").is_hidden()
    assert agent.locator("#transcript .from-agent").count() == 0

    agent.fill("#reply-text", "Guten Tag, hier ist Anna. Wie kann ich helfen?")
    agent.click("#reply-send")
    wait_for_text(visitor, ".lotse-agent", "Wie kann ich helfen?")
    assert "Anna, Vertrieb" in visitor.locator(".lotse-agent .lotse-author").first.inner_text()

    visitor_says(visitor, HOSTILE)
    wait_for_text(agent, "#transcript .from-visitor", "Danke!")
    shown = agent.locator("#transcript .from-visitor", has_text="Danke!").first.inner_text()
    assert "<img" in shown and "<script>" in shown  # shown as text, not run
    assert agent.locator("#transcript img").count() == 0
    assert agent.evaluate("window.__xss") is None
    assert visitor.locator(".lotse-bot", has_text=HOSTILE).count() == 0  # the bot stayed silent

    agent.fill("#note-text", "Interessiert an P400, Rückruf nächste Woche")
    agent.click("#note-add")
    wait_for_text(agent, "#notes", "Interessiert an P400")
    agent.fill(".answer-input[data-attribute=employees]", "80 Mitarbeiter")
    agent.click(".answer-edit[data-attribute=employees]")
    wait_for_text(agent, ".answer-row[data-attribute=employees]", "80")
    sender = visitor.evaluate("window.lotseWidget.state().sender")
    lead = services_for(staff.database_url).crm.find_lead(Visit(sender, "rest"))
    assert lead is not None and lead.answers["employees"].value["count"] == 80
    assert lead.answers["employees"].source == "human"
    assert visitor.locator(".lotse-msg", has_text="Interessiert an P400").count() == 0  # internal

    agent.click("#hand-back")
    wait_for_text(visitor, ".lotse-bot", "Anna, Vertrieb hat Sie an mich zurückgegeben")
    visitor_says(visitor, "Wie lange dauert die Lieferung einer Presse?")
    wait_for_text(visitor, ".lotse-bot", "8 bis 14 Wochen")


def test_an_agent_closes_with_a_rejected_lead_and_the_visitor_is_told(browser, staff):
    visitor = open_widget(browser, staff)
    visitor_says(visitor, "Ich möchte bitte mit einem Menschen sprechen")
    wait_for_text(visitor, ".lotse-status", "Position")
    agent = console_login(browser, staff, "jonas")
    agent.locator(".queue-item").first.click()
    agent.click("#claim")
    wait_for_text(visitor, ".lotse-system", "Jonas, Vertrieb")
    agent.fill(".answer-input[data-attribute=role]", "Student")
    agent.click(".answer-edit[data-attribute=role]")
    wait_for_text(agent, ".answer-row[data-attribute=role]", "student")
    agent.select_option("#close-outcome", "lead_rejected")
    agent.fill("#close-reason", "Studentisches Projekt, kein Bedarf")
    agent.click("#close")
    wait_for_text(visitor, ".lotse-system", "Jonas, Vertrieb hat das Gespräch beendet")
    sender = visitor.evaluate("window.lotseWidget.state().sender")
    lead = services_for(staff.database_url).crm.find_lead(Visit(sender, "rest"))
    assert lead is not None and lead.rejected
    assert (lead.feedback[-1].decision, lead.feedback[-1].reason, lead.feedback[-1].actor) == (
        "reject", "Studentisches Projekt, kein Bedarf", "jonas",
    )  # fmt: skip


def test_outside_office_hours_the_visitor_leaves_a_callback_request(browser, staff, stack_clock):
    set_clock(stack_clock, SATURDAY_10)
    visitor = open_widget(browser, staff)
    visitor_says(visitor, "Can I talk to someone from sales?")
    wait_for_text(visitor, ".lotse-bot", "not available right now")
    visitor.locator(".lotse-button", has_text="Callback").click()
    wait_for_text(visitor, ".lotse-bot", "Do you agree?")
    visitor.locator(".lotse-button", has_text="Yes").last.click()
    wait_for_text(visitor, ".lotse-bot", "Which phone number")
    visitor_says(visitor, "0521 1234567")
    wait_for_text(visitor, ".lotse-bot", "When suits you best?")
    visitor_says(visitor, "Monday morning")
    wait_for_text(visitor, ".lotse-bot", "will call you back on +495211234567")

    sender = visitor.evaluate("window.lotseWidget.state().sender")
    crm = services_for(staff.database_url).crm
    lead = crm.lead_for(Visit(sender, "rest", None, "en"))
    [task] = lead.tasks
    assert (task.kind, task.note, task.assignee) == ("callback", "Monday morning", None)
    assert task.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert lead.phone == "+495211234567" and lead.consent is not None
    # Without an SMTP server the console's dispatcher writes the email to the mail folder.
    mail = Path(staff.database_url.removeprefix("sqlite:///")).parent / "mail"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
        "+495211234567" in f.read_text(errors="replace") for f in mail.glob("*.eml")
    ):
        time.sleep(0.2)
    [sent] = [f for f in mail.glob("*.eml") if "+495211234567" in f.read_text(errors="replace")]
    assert "vertrieb@nordwerk.example" in sent.read_text()  # the team inbox: nobody routed
    assert EventOutbox(make_engine(staff.database_url), connector=NOTIFY).pending_count() == 0
