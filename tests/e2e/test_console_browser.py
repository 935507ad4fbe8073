"""The console as an agent uses it (issue 22), in a real browser (Playwright driving
Debian's Chromium) against the whole stack, in German and in English, on a desktop and
on a phone-sized screen (360x740, touch):

log in; a notification (the Notification API, wrapped by an init script that records
what the page shows, with the permission granted) for a conversation routed to the
agent and for one waiting in their team's queue; the count in the tab's title; claim;
the visitor typing shows in the console, the agent typing in the widget; a prepared
answer ("/") put in the reply box and sent; a visitor's message while the tab is
hidden notifies; hand back, and the bot answers the visitor again. On the desktop the
agent works with the keyboard (Alt+C, Ctrl+Enter, Alt+H); on the phone by touch, with
the way back to the queue.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from handoff.desk import Ask, Desk
from handoff.routing import RoutingRequest
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine
from lotse.settings import Settings
from tests.e2e.test_handoff_browser import open_widget, visitor_says, wait_for_text
from tests.e2e.test_messenger_channels import say, someone
from tests.support.console_client import PASSWORD, add_users
from wiring.services import file_clock

pytestmark = [pytest.mark.browser, pytest.mark.model]

TIMEOUT_MS = 30_000
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}  # fmt: skip
# Records each notification the page shows; lets the test hide the tab.
CAPTURE = """
(function () {
  var Real = window.Notification;
  window.__notes = [];
  function Recorded(title, options) {
    window.__notes.push({ title: title, body: (options && options.body) || "" });
    this.close = function () {};
  }
  Object.defineProperty(Recorded, "permission", { get: function () { return Real.permission; } });
  Recorded.requestPermission = function () {
    return Real.requestPermission.apply(Real, arguments);
  };
  window.Notification = Recorded;
  window.__hidden = false;
  Object.defineProperty(document, "visibilityState", {
    get: function () { return window.__hidden ? "hidden" : "visible"; }
  });
  window.__setHidden = function (hidden) {
    window.__hidden = hidden;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


@dataclass(frozen=True)
class Flow:
    """What one language's flow types and expects to read."""

    locale: str
    site: str  # the website's page for the visitor
    ask: str  # the visitor's wish for a person
    queued: str  # in the widget's status line while waiting
    team_note: str  # the notification's title for a conversation in the team's queue
    routed_note: str  # ... for one routed to the agent
    wrote_note: str  # ... for a visitor's message while the tab is hidden
    joined: str  # the widget's notice when the agent claims
    visitor_typing: str  # the console's line
    agent_typing: str  # the widget's line
    search: str  # after "/" in the reply box
    canned_title: str
    canned_text: str  # the prepared answer as it lands in the reply box
    handed_back: str  # the bot's words after the hand-back
    question: str  # the visitor's question to the bot afterwards
    answer: str  # a piece of the bot's answer


FLOWS = {
    "de": Flow(
        locale="de-DE", site="/", ask="Ich möchte bitte mit einem Menschen sprechen",
        queued="Position", team_note="Ein Gespräch wartet in der Warteschlange Ihres Teams",
        routed_note="Ein Gespräch wurde Ihnen zugewiesen",
        wrote_note="Der Besucher hat geschrieben",
        joined="Anna, Vertrieb hat das Gespräch übernommen",
        visitor_typing="Der Besucher schreibt …", agent_typing="Anna, Vertrieb schreibt …",
        search="/begr", canned_title="Begrüßung",
        canned_text="Guten Tag, hier ist Anna Becker von Nordwerk. Wie kann ich Ihnen helfen?",
        handed_back="Anna, Vertrieb hat Sie an mich zurückgegeben",
        question="Wie lange dauert die Lieferung einer Presse?", answer="8 bis 14 Wochen",
    ),
    "en": Flow(
        locale="en-GB", site="/en/", ask="I would like to talk to a person, please",
        queued="number", team_note="A conversation waits in your team's queue",
        routed_note="A conversation was routed to you", wrote_note="The visitor wrote",
        joined="has joined the conversation",
        visitor_typing="The visitor is typing…", agent_typing="is typing…",
        search="/greet", canned_title="Greeting",
        canned_text="Hello, this is Anna Becker from Nordwerk. How can I help you?",
        handed_back="has handed you back to me",
        question="How long does the delivery of a press take?", answer="8 to 14 weeks",
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def staff(stack: Settings) -> Settings:
    add_users(stack.database_url)
    return stack


@pytest.fixture
def desk(staff: Settings) -> Desk:
    """A desk on the stack's clock, for a conversation routed without the widget."""
    clock = Path(staff.database_url.removeprefix("sqlite:///")).parent / "clock"
    store = HandoffStore(migrated_engine(staff.database_url))
    return Desk(store, load_routing_model(), load_handoff_texts(), clock=file_clock(clock))


def eventually(check, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    """The first truthy value `check()` gives within `seconds` (the page's CSP forbids
    Playwright's string predicates, so the test polls)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "not within the deadline"
            return value
        time.sleep(0.1)


def notes(page: object) -> list[dict[str, str]]:
    return page.evaluate("window.__notes")  # type: ignore[attr-defined]


def noted(page: object, title: str, body: str = "") -> dict[str, str]:
    def shown() -> dict[str, str] | None:
        return next((n for n in notes(page) if n["title"] == title and body in n["body"]), None)

    return eventually(shown)


def agent_console(browser: object, stack: Settings, flow: Flow, phone: bool) -> object:
    context = browser.new_context(locale=flow.locale, **(PHONE if phone else {}))  # type: ignore[attr-defined]
    base = f"http://{stack.host}:{stack.console_port}"
    context.grant_permissions(["notifications"], origin=base)
    context.add_init_script(CAPTURE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base}/console/")
    page.fill("#login-username", "anna")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#queue")
    page.wait_for_selector("#connection.connection-live")
    # Online and available, so that routing may give her a conversation.
    page.select_option("#presence", "away")
    page.select_option("#presence", "available")
    page.locator("#status-line.status-ok").wait_for()
    return page


def visitor_widget(browser: object, stack: Settings, flow: Flow) -> object:
    return open_widget(browser, stack, flow.locale, flow.site)


says, shows = visitor_says, wait_for_text


def conversation_of(visitor: object) -> str:
    return visitor.evaluate("window.lotseWidget.state().sender")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("language", "phone"), [("de", False), ("en", False), ("de", True)],
                         ids=["de", "en", "de-phone"])  # fmt: skip
def test_an_agent_is_notified_sees_the_visitor_type_answers_and_hands_back(
    browser, staff, desk, language, phone
):
    flow = FLOWS[language]
    agent = agent_console(browser, staff, flow, phone)
    time.sleep(1.5)  # the first queue load only takes note of what is there

    # Routed to her (routing rule germany_0_3: Anna, online and available).
    routed = f"web-routed-{uuid.uuid4().hex[:12]}"
    ask = Ask(routed, "visitor_asked", RoutingRequest(language=language, country="DE",
                                                      postal_code="33602"), "rest")  # fmt: skip
    handoff = desk.request(ask).handoff  # type: ignore[union-attr]
    assert handoff.assignee == "anna"
    noted(agent, flow.routed_note, f"#{handoff.id}")
    desk.visitor_wrote(routed, "cancel" if language == "en" else "abbrechen")  # her load again

    # A visitor in the widget waits in the team's queue.
    visitor = visitor_widget(browser, staff, flow)
    says(visitor, flow.ask)
    shows(visitor, ".lotse-status", flow.queued)
    waiting = desk.store.open_handoff(conversation_of(visitor))
    assert waiting is not None and waiting.assignee is None
    note = noted(agent, flow.team_note, f"#{waiting.id}")
    assert note["body"].startswith(("Gespräch", "Conversation"))  # no visitor text in it
    assert eventually(lambda: agent.title().startswith("("))  # the count of what waits

    item = agent.locator(f'.queue-item[data-id="{waiting.id}"]')
    if phone:
        assert agent.evaluate("document.documentElement.scrollWidth") <= 360
        item.tap()
        agent.wait_for_selector("#claim")
        assert agent.locator("#left").is_hidden()  # the conversation takes the screen
        agent.tap("#back-to-queue")  # and the way back works
        agent.locator("#left").wait_for()
        item.tap()
        agent.tap("#claim")
    else:
        item.click()
        agent.wait_for_selector("#claim")
        agent.keyboard.press("Alt+KeyC")
    shows(visitor, ".lotse-system", flow.joined)
    agent.wait_for_selector("#reply-text")

    # The visitor types: the console says so.
    visitor.type(".lotse-input", "Eine Frage noch", delay=40)
    shows(agent, "#visitor-typing", flow.visitor_typing)

    # A prepared answer, then the agent types on: the widget says so.
    agent.type("#reply-text", flow.search)
    shows(agent, "#canned-list .canned-item.chosen", flow.canned_title)
    agent.press("#reply-text", "Enter")
    assert agent.input_value("#reply-text") == flow.canned_text
    agent.type("#reply-text", " :)", delay=60)
    shows(visitor, ".lotse-typing", flow.agent_typing)
    if phone:
        agent.tap("#reply-send")
    else:
        agent.press("#reply-text", "Control+Enter")
    shows(visitor, ".lotse-agent", flow.canned_text)
    assert agent.input_value("#reply-text") == ""

    # The visitor writes while the console's tab is hidden: a notification.
    agent.evaluate("window.__setHidden(true)")
    visitor.press(".lotse-input", "Enter")  # "Eine Frage noch"
    shows(agent, "#transcript .from-visitor", "Eine Frage noch")
    noted(agent, flow.wrote_note, f"#{waiting.id}")
    eventually(lambda: agent.locator("#visitor-typing").is_hidden())  # the message ended it
    agent.evaluate("window.__setHidden(false)")

    if phone:
        agent.tap("#hand-back")
        assert agent.evaluate("document.documentElement.scrollWidth") <= 360
    else:
        agent.keyboard.press("Alt+KeyH")
    shows(visitor, ".lotse-bot", flow.handed_back)
    says(visitor, flow.question)
    shows(visitor, ".lotse-bot", flow.answer)
    agent.context.close()
    visitor.context.close()


def test_the_shortcuts_are_listed_and_close_is_two_presses_of_alt_x(browser, staff, desk):
    flow = FLOWS["de"]
    agent = agent_console(browser, staff, flow, phone=False)
    conversation = f"web-keys-{uuid.uuid4().hex[:12]}"
    ask = Ask(conversation, "visitor_asked", RoutingRequest(language="de"), "rest")
    handoff = desk.request(ask).handoff  # type: ignore[union-attr]
    agent.locator(f'.queue-item[data-id="{handoff.id}"]').wait_for()

    agent.keyboard.press("?")
    shows(agent, "#shortcuts", "Tastenkürzel")
    assert "Alt+X" in agent.inner_text("#shortcuts")
    agent.keyboard.press("Escape")
    assert agent.locator("#shortcuts").is_hidden()

    agent.keyboard.press("Alt+KeyQ")  # the queue, then its items with the arrow keys
    assert agent.evaluate("document.activeElement.classList.contains('queue-item')")
    agent.keyboard.press("Alt+KeyN")  # the next conversation waiting for her
    agent.wait_for_selector("#claim")
    opened = int(eventually(lambda: agent.evaluate("window.location.hash")).split("-")[1])
    if opened != handoff.id:  # one left waiting by another test: this one is wanted
        agent.locator(f'.queue-item[data-id="{handoff.id}"]').click()
        agent.wait_for_selector("#claim")
    agent.keyboard.press("Alt+KeyC")
    agent.wait_for_selector("#reply-text")
    agent.keyboard.press("Alt+KeyR")
    assert agent.evaluate("document.activeElement.id") == "reply-text"
    agent.keyboard.press("Alt+KeyX")  # first the outcome ...
    assert agent.evaluate("document.activeElement.id") == "close-outcome"
    agent.keyboard.press("Alt+KeyX")  # ... then closed with it
    eventually(lambda: desk.store.get(handoff.id).state == "closed")
    assert desk.store.get(handoff.id).outcome == "resolved"
    agent.context.close()


def test_a_reply_in_a_messenger_conversation_says_that_the_platform_took_it(
    browser, staff, stack_messengers
):
    """Telegram (the stack's fake platform): the handoff relay sends the reply, and the
    console marks it delivered (channel_deliveries, read by /deliveries)."""
    person = someone("telegram")
    say(staff, stack_messengers, person, "Kann ich bitte mit einem Menschen sprechen?")
    stack_messengers.wait_for("telegram", person.recipient)
    store = HandoffStore(migrated_engine(staff.database_url))
    handoff = store.open_handoff(person.conversation_id)
    assert handoff is not None and handoff.channel == "telegram"

    agent = agent_console(browser, staff, FLOWS["de"], phone=False)
    agent.locator(f'.queue-item[data-id="{handoff.id}"]').click()
    agent.click("#claim")
    agent.fill("#reply-text", "Guten Tag, hier ist Anna.")
    agent.click("#reply-send")
    shows(agent, "#transcript .from-agent .delivery-delivered", "zugestellt")
    texts = [s.text for s in stack_messengers.wait_for("telegram", person.recipient, count=3)]
    assert any(t.endswith("Guten Tag, hier ist Anna.") for t in texts), texts
    agent.click("#hand-back")
    agent.context.close()
