"""The staff console in German, walked page by page in a real browser (issue 22, item 1).

Browser contexts with the locale de-DE log in (the login page already German), as an
agent who claims a visitor's handoff, records the lead's answers in the lead card (one
that is no answer first: the server's refusal), opens the prepared answers and at last
closes with a lead verdict, and as an admin who sees the queue, the open conversation
with its summary and lead card, the users, data protection and prepared answers panels
(and the server's refusals of a short password and of an empty title) and the insights
dashboard with data and without. On every page the visible
text (the body's innerText, the placeholder, title and aria-label attributes, option
and optgroup labels, the charts' titles) is collected and each line checked against
the German catalogue: a line that is an English msgid whose German differs fails, and
every word must be accounted for: by a German text of the catalogue, or as data (the
German side of what bot/data holds per language, names of staff and teams, codes; what
this test typed, numbers and dates, brand names).

Then the language setting: the admin switches to English in the top bar (the page
reloads in English and stays so at the next login); the dashboard follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from console.i18n import LOCALE
from insights.report_tables import SECTIONS
from lotse.settings import Settings
from lotse.translations import LANGUAGES
from tests.support.console_client import PASSWORD, USERS, add_users

pytestmark = [pytest.mark.browser, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 30_000
QUESTION = "Ich möchte bitte mit einem Menschen sprechen"
NOTE = "Rückruf morgen früh"
NO_ANSWER = "Banane"
VERDICT_REASON = "Passt gut"
# What the agent records in the lead card: the card and the summary show the values in
# German words ("Metallbau" is the industry "Metallverarbeitung").
ANSWERS = [
    ("need", "Pressen"), ("employees", "80"), ("industry", "Metallbau"),
    ("role", "Geschäftsführer"), ("location", "33602 Bielefeld"), ("timeline", "in 3 Monaten"),
    ("budget", "100.000 Euro"),
]  # fmt: skip
# Names and words that are data or brands, in any language.
BRANDS = {
    "Lotse", "Nordwerk", "Anlagenbau", "GmbH", "JSON", "CSV", "csv", "MQL", "SQL", "CSAT",
    "NW", "Connect", "Enter", "Shift", "Tab", "Esc", "de", "en", "rest", "website",
    "telegram", "facebook", "whatsapp", "slack", "botframework", "twilio", "admin",
    "anna", "jonas", "tim", "nina", "Deutsch", "English", "Admin", "Bot", "Lead",
    "Leads", "online", "offline", "live", "Team", "Teams", "Spam", "Service", "Status",
    "Name", "Min", "Sek", "Browsers", "Freemail", "CRM", "Test",
}  # fmt: skip
# What of bot/data the console shows: (file, its part: a dotted path, None for all).
SHOWN_DATA = [
    ("routing.yml", None), ("canned_responses.yml", None), ("experiments.yml", None),
    ("scoring.yml", None), ("qualification.yml", "replies.values"),
    ("content/faq.yml", "topics"),
]  # fmt: skip
USERNAMES = {username for username, _, _ in USERS}
# What visitors, the bot and agents wrote is conversation, not the console's text: it is
# hidden while the page's text is read, then shown again.
COLLECT = """() => {
  // What people wrote and what a platform answered are data: the transcript, and what
  // the console marks translate="no" (the undelivered messages' texts and reasons).
  const talk = Array.from(document.querySelectorAll(
    "#transcript .text, #transcript .chip, [translate='no']"))
    .filter((node) => node.style.display !== "none");
  talk.forEach((node) => { node.style.display = "none"; });  // HTML and SVG alike
  const out = [document.title, document.body.innerText];
  talk.forEach((node) => { node.style.display = ""; });
  document.querySelectorAll("[placeholder], [title], [aria-label]").forEach((node) => {
    for (const name of ["placeholder", "title", "aria-label"]) {
      if (node.hasAttribute(name)) out.push(node.getAttribute(name));
    }
  });
  document.querySelectorAll("option").forEach((node) => out.push(node.textContent));
  document.querySelectorAll("optgroup").forEach((node) => out.push(node.label));
  document.querySelectorAll("svg title, svg text").forEach((node) => {
    if (!node.closest("[translate='no']")) out.push(node.textContent);
  });
  return out;
}"""


def catalogue() -> dict[str, str]:
    with (LOCALE / "de" / "LC_MESSAGES" / "console.po").open("rb") as file:
        return {str(m.id): str(m.string) for m in read_po(file) if m.id}


def words(text: str) -> set[str]:
    """The words of `text`; a code ("office_hours", "germany_0_3") is one word, so the
    codes of bot/data allow no English words ("Office hours") of their own."""
    return set(re.findall(r"[A-Za-zÄÖÜäöüß]{2,}(?:_[A-Za-z0-9]+)*", text))


def german_side(node: object) -> Iterator[str]:
    """The values of a YAML tree as a German console shows them: of a map per language
    ({de: ..., en: ...}) the German side only; names, codes and numbers as they are.
    Keys are the file's field names ("label", "office_hours"), not data."""
    if isinstance(node, dict) and set(node) <= set(LANGUAGES):
        yield from german_side(node.get("de"))
    elif isinstance(node, dict):
        for value in node.values():
            yield from german_side(value)
    elif isinstance(node, list):
        for item in node:
            yield from german_side(item)
    elif node is not None:
        yield str(node)


def data_words() -> set[str]:
    """Words of the data the console shows as it is, in German (bot/data: staff, teams,
    routing rules, scoring, the answers' values, experiments, prepared answers, FAQ
    topics; documents). The bot's reading vocabularies (the word lists of
    bot/data/content, both languages mixed) are not shown and allow nothing."""
    found: set[str] = set()
    data = ROOT / "bot" / "data"
    for name, part in SHOWN_DATA:
        tree = yaml.safe_load((data / name).read_text(encoding="utf-8"))
        for key in part.split(".") if part else ():
            tree = tree[key]
        found |= words(" ".join(german_side(tree)))
    # Experiments and their variants are named by their keys (the dashboard's A/B tests).
    experiments = yaml.safe_load((data / "experiments.yml").read_text(encoding="utf-8"))
    for name, experiment in experiments["experiments"].items():
        found |= {name, *experiment["variants"]}
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


def record_answer(page: object, attribute: str, text: str) -> None:
    page.fill(f'.answer-input[data-attribute="{attribute}"]', text)  # type: ignore[attr-defined]
    page.click(f'.answer-edit[data-attribute="{attribute}"]')  # type: ignore[attr-defined]


def test_no_english_text_in_the_german_console(browser, staff):
    console = f"http://{staff.host}:{staff.console_port}"
    checker = Checker([QUESTION, NOTE, NO_ANSWER, VERDICT_REASON, *(t for _, t in ANSWERS)])

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
    record_answer(agent, "employees", NO_ANSWER)
    wait_for_text(agent, '.answer-row[data-attribute="employees"] .answer-error', "Antwort")
    checker.walk(agent, "lead card: no answer")
    for attribute, text in ANSWERS:
        record_answer(agent, attribute, text)
        agent.wait_for_selector(f'.answer-row[data-attribute="{attribute}"] .source-human')
    wait_for_text(agent, "#answers", "Metallverarbeitung")
    wait_for_text(agent, "#summary .summary-lead-answers", "Metallverarbeitung")
    agent.type("#reply-text", "/")
    agent.wait_for_selector("#canned-list .canned-item")
    checker.walk(agent, "claimed conversation with its lead and prepared answers")
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
    # The server refuses a short password and a prepared answer without a German title.
    admin.fill("#user-username", "neu")
    admin.fill("#user-password", "kurz")
    admin.click("#user-add")
    wait_for_text(admin, "#users-status", "Passwort")
    admin.fill("#canned-key", "leer")
    admin.fill("#canned-text-de", "Guten Tag")
    admin.fill("#canned-title-en", "Empty")
    admin.fill("#canned-text-en", "Hello")
    admin.click("#canned-save")
    wait_for_text(admin, "#canned-status", "Titel")
    checker.walk(admin, "admin: a user and a prepared answer refused")

    # The agent closes with a lead verdict (the dashboard counts it only where the stack's
    # clock is not this test's office-hours day: tests/unit/test_console_catalogue.py
    # shows the rules of the scoring feedback in words).
    agent.select_option("#close-outcome", "lead_accepted")
    agent.fill("#close-reason", VERDICT_REASON)
    agent.click("#close")
    # Closed, the conversation is no longer the agent's to read (403, in words).
    wait_for_text(agent, "#conversation .placeholder", "nicht mehr offen")
    checker.walk(agent, "closed")

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
