"""The staff console in German, walked page by page in a real browser (issue 22, item 1).

Browser contexts with the locale de-DE log in (the login page already German), as an
agent who claims a visitor's handoff and opens the prepared answers, and as an admin
who sees the queue, the open conversation with its summary and lead card, the users,
data protection and prepared answers panels and the insights dashboard with data and
without. On every page the visible text (the body's innerText, the placeholder, title
and aria-label attributes, option and optgroup labels, the charts' titles) is collected
and each line checked against the German catalogue: a line that is an English msgid
whose German differs fails, and every word must be accounted for: by a German text of
the catalogue, or as data (names of staff, teams, routing rules and topics from
bot/data, what this test typed, numbers and dates, codes, brand names).

Then the language setting: the admin switches to English in the top bar (the page
reloads in English and stays so at the next login); the dashboard follows it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from console.i18n import LOCALE
from insights.report_tables import SECTIONS
from lotse.settings import Settings
from tests.support.console_client import PASSWORD, USERS, add_users

pytestmark = [pytest.mark.browser, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 30_000
QUESTION = "Ich möchte bitte mit einem Menschen sprechen"
NOTE = "Rückruf morgen früh"
# Names and words that are data or brands, in any language.
BRANDS = {
    "Lotse", "Nordwerk", "Anlagenbau", "GmbH", "JSON", "CSV", "csv", "MQL", "SQL", "CSAT",
    "NW", "Connect", "Enter", "Shift", "Tab", "Esc", "de", "en", "rest", "website",
    "telegram", "facebook", "whatsapp", "slack", "botframework", "twilio", "admin",
    "anna", "jonas", "tim", "nina", "Deutsch", "English", "Admin", "Bot", "Lead",
    "Leads", "online", "offline", "live", "Team", "Teams", "Spam", "Service", "Status",
    "Name", "Min", "Sek", "Browsers", "Freemail", "CRM", "Test",
}  # fmt: skip
USERNAMES = {username for username, _, _ in USERS}
# What visitors, the bot and agents wrote is conversation, not the console's text: it is
# hidden while the page's text is read, then shown again.
COLLECT = """() => {
  // What people wrote and what a platform answered are data: the transcript, and what
  // the console marks translate="no" (the undelivered messages' texts and reasons).
  const talk = Array.from(document.querySelectorAll(
    "#transcript .text, #transcript .chip, [translate='no']"))
    .filter((node) => !node.hidden);
  talk.forEach((node) => { node.hidden = true; });
  const out = [document.title, document.body.innerText];
  talk.forEach((node) => { node.hidden = false; });
  document.querySelectorAll("[placeholder], [title], [aria-label]").forEach((node) => {
    for (const name of ["placeholder", "title", "aria-label"]) {
      if (node.hasAttribute(name)) out.push(node.getAttribute(name));
    }
  });
  document.querySelectorAll("option").forEach((node) => out.push(node.textContent));
  document.querySelectorAll("optgroup").forEach((node) => out.push(node.label));
  document.querySelectorAll("svg title, svg text").forEach((node) => out.push(node.textContent));
  return out;
}"""


def catalogue() -> dict[str, str]:
    with (LOCALE / "de" / "LC_MESSAGES" / "console.po").open("rb") as file:
        return {str(m.id): str(m.string) for m in read_po(file) if m.id}


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-zÄÖÜäöüß]{2,}", text))


def data_words() -> set[str]:
    """Words of the data the console shows as it is: staff, teams and routing rules,
    topics, documents and prepared answers (bot/data), in both languages."""
    found: set[str] = set()
    data = ROOT / "bot" / "data"
    files = [data / name for name in ("routing.yml", "canned_responses.yml", "experiments.yml")]
    for path in [*files, *sorted((data / "content").glob("*.yml"))]:
        found |= words(yaml.safe_dump(yaml.safe_load(path.read_text(encoding="utf-8")),
                                      allow_unicode=True))  # fmt: skip
    for path in (data / "documents").iterdir():
        found |= words(path.name)
    # The website's page keys (the handoff's "page") and the dashboard's CSV tables.
    found |= words(" ".join(re.findall(r'Route\("[^"]*", "([a-z_]+)"',
                                       (ROOT / "website" / "pages.py").read_text())))  # fmt: skip
    found |= words(" ".join(SECTIONS))
    return found


class Checker:
    def __init__(self, typed: list[str]) -> None:
        german = catalogue()
        self.english = {msgid for msgid, text in german.items() if text != msgid}
        allowed = set().union(*(words(text) for text in german.values()))
        allowed |= BRANDS | data_words() | set().union(*(words(t) for t in typed))
        self.allowed = {word.lower() for word in allowed}  # headings may be upper case
        self.problems: list[str] = []

    def check(self, page_name: str, pieces: list[str]) -> None:
        for piece in pieces:
            for line in (piece or "").splitlines():
                line = line.strip()
                if not line:
                    continue
                if line in self.english and line not in USERNAMES:
                    self.problems.append(f"{page_name}: English text {line!r}")
                    continue
                unknown = sorted(w for w in words(line) if w.lower() not in self.allowed)
                if unknown:
                    self.problems.append(f"{page_name}: {line!r} has {unknown}")

    def walk(self, page: object, page_name: str) -> None:
        self.check(page_name, page.evaluate(COLLECT))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def staff(stack: Settings) -> Settings:
    add_users(stack.database_url)
    return stack


def german_page(browser: object, url: str) -> object:
    context = browser.new_context(locale="de-DE")  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def log_in(page: object, username: str) -> None:
    page.fill("#login-username", username)  # type: ignore[attr-defined]
    page.fill("#login-password", PASSWORD)  # type: ignore[attr-defined]
    page.click("#login-submit")  # type: ignore[attr-defined]
    page.wait_for_selector("#queue-title")  # type: ignore[attr-defined]
    page.wait_for_selector("#app:not([hidden])")  # type: ignore[attr-defined]


def wait_for_text(page: object, selector: str, text: str) -> None:
    page.locator(selector, has_text=text).first.wait_for()  # type: ignore[attr-defined]


def test_no_english_text_in_the_german_console(browser, staff):
    console = f"http://{staff.host}:{staff.console_port}"
    checker = Checker([QUESTION, NOTE])

    # The login page, before anyone is known: the browser's language.
    agent = german_page(browser, f"{console}/console/")
    agent.wait_for_selector("#login-form")
    wait_for_text(agent, "#login-submit", "Anmelden")
    assert agent.evaluate("document.documentElement.lang") == "de"
    checker.walk(agent, "login")
    # A refused login under a name of its own: a failure of Anna's would add to the
    # failures the attack tests made on the shared stack, and her login's backoff
    # would then refuse this address her right password too (429).
    agent.fill("#login-username", "gast")
    agent.fill("#login-password", "wrong password")
    agent.click("#login-submit")
    wait_for_text(agent, "#login-error", "falsch")
    checker.walk(agent, "login refused")

    log_in(agent, "anna")
    wait_for_text(agent, "#queue .empty", "Gerade wartet niemand.")
    checker.walk(agent, "empty queue")

    visitor = browser.new_context().new_page()
    visitor.set_default_timeout(TIMEOUT_MS)
    visitor.goto(f"http://{staff.host}:{staff.web_port}/")
    visitor.click(".lotse-launcher")
    visitor.wait_for_selector(".lotse-bot")
    visitor.fill(".lotse-input", QUESTION)
    visitor.press(".lotse-input", "Enter")
    wait_for_text(visitor, ".lotse-status", "Position")

    agent.locator(".queue-item").first.click()
    wait_for_text(agent, "#summary .summary-reason", "Der Besucher wollte eine Person sprechen")
    checker.walk(agent, "waiting conversation")
    agent.click("#claim")
    wait_for_text(agent, "#status-line", "Sie haben das Gespräch jetzt übernommen.")
    agent.wait_for_selector("#reply-text")
    agent.fill("#note-text", NOTE)
    agent.click("#note-add")
    wait_for_text(agent, "#notes", NOTE)
    agent.type("#reply-text", "/")
    agent.wait_for_selector("#canned-list .canned-item")
    checker.walk(agent, "claimed conversation with prepared answers")
    agent.press("#reply-text", "Escape")

    admin = german_page(browser, f"{console}/console/")
    log_in(admin, "admin")
    wait_for_text(admin, "#users-title", "Benutzer")
    admin.wait_for_selector("#users-list .user-row")
    admin.wait_for_selector("#canned-admin-list .canned-admin-item")
    admin.locator(".queue-item").first.click()
    wait_for_text(admin, "#summary .summary-reason", "Der Besucher wollte eine Person sprechen")
    admin.wait_for_selector("#lead-card, #no-lead")
    admin.click("#history summary")
    checker.walk(admin, "admin: queue, conversation, users, privacy, prepared answers")
    admin.click("#privacy-export")  # nothing typed: the panel's own message
    wait_for_text(admin, "#privacy-status", "E-Mail-Adresse")
    admin.fill("#privacy-who", "niemand@example.com")
    admin.click("#privacy-erase")
    admin.wait_for_selector("#privacy-confirm:not([hidden])")
    checker.walk(admin, "admin: privacy panel asking")
    admin.click("#privacy-erase-cancel")

    admin.goto(f"{console}/console/insights")
    wait_for_text(admin, "h1", "Lotse Auswertungen")
    assert admin.locator('[data-chart="overview-funnel"] .mark').count() > 0
    wait_for_text(admin, '[data-metric="Containment rate"] .label', "Vom Bot gelöst")
    checker.walk(admin, "insights with data")
    admin.goto(f"{console}/console/insights?from=2026-01-01&to=2026-01-31")
    wait_for_text(admin, "svg.chart text", "Keine Daten")
    checker.walk(admin, "insights without data")
    admin.goto(f"{console}/console/insights?from=2026-02-30")
    wait_for_text(admin, "h1", "Lotse Auswertungen")
    checker.walk(admin, "insights with a wrong filter")

    agent.click("#hand-back")
    # Handed back, the conversation is no longer the agent's to read (403, in words).
    wait_for_text(agent, "#conversation .placeholder", "nicht mehr offen")
    checker.walk(agent, "handed back")

    assert not checker.problems, "\n".join(checker.problems)


def test_the_dashboard_labels_and_numbers_are_german(browser, staff):
    console = f"http://{staff.host}:{staff.console_port}"
    page = german_page(browser, f"{console}/console/insights")  # to the login and back
    page.fill("#login-username", "admin")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/console/insights")
    labels = page.locator(".tile .label").all_inner_texts()
    assert labels[:3] == ["Gespräche", "Aktive Gespräche", "Leads"]
    assert "Vom Bot gelöst" in labels and "Containment rate" not in labels
    assert "Mittlere Wartezeit bis zur Übernahme" in labels
    rate = page.locator('[data-metric="Handoff rate"] .figure').inner_text()
    assert re.fullmatch(r"(–|\d+,\d\u00a0%)", rate), rate  # 33,3 %
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("form.filters button").inner_text() == "Anzeigen"


def test_a_staff_member_chooses_english_and_keeps_it(browser, staff):
    console = f"http://{staff.host}:{staff.console_port}"
    page = german_page(browser, f"{console}/console/")
    log_in(page, "tim")
    wait_for_text(page, "#logout", "Abmelden")
    page.select_option("#language", "en")
    wait_for_text(page, "#logout", "Log out")  # the page reloaded in English
    assert page.input_value("#language") == "en"
    page.click("#logout")
    wait_for_text(page, "#login-submit", "Anmelden")  # logged out: the browser's language
    log_in(page, "tim")
    wait_for_text(page, "#logout", "Log out")  # the setting, not the browser
    page.select_option("#language", "")  # back to the browser's language
    wait_for_text(page, "#logout", "Abmelden")
