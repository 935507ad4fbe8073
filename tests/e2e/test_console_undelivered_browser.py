"""The messengers' dead letters in the console, in a real browser (issue 23): an admin
sees each message the relay gave up on, in German and in English; an agent does not."""

from __future__ import annotations

import uuid

import pytest

from conversations.address_book import AddressBook
from handoff.store import HandoffStore
from lotse.migrate import migrated_engine
from lotse.settings import Settings
from tests.e2e.test_handoff_browser import console_login
from tests.support.console_client import add_users

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture(scope="module")
def staff(stack: Settings) -> Settings:
    add_users(stack.database_url)
    return stack


def dead_letter(stack: Settings) -> str:
    """A bot answer on WhatsApp that Twilio refused, as the relay records it."""
    engine = migrated_engine(stack.database_url)
    conversation = f"twilio:whatsapp:+49151{uuid.uuid4().int % 10**8:08d}"
    text = f"Die P400 kostet ab 140.000 EUR ({uuid.uuid4().hex[:6]})"
    book = AddressBook(engine)
    book.remember(conversation, "twilio", {"id": conversation.removeprefix("twilio:")})
    with engine.begin() as c:
        message_id = HandoffStore.add_message_in(c, conversation, "bot", text)
    book.claim(message_id, conversation)
    book.failed(message_id, "refused: twilio answered 400")
    return text


@pytest.mark.parametrize(("locale", "title", "why"), [
    ("de-DE", "Nicht zugestellte Nachrichten", "von der Plattform abgelehnt (twilio answered 400)"),
    ("en-US", "Undelivered messages", "refused by the platform (twilio answered 400)"),
])  # fmt: skip
def test_an_admin_sees_the_undelivered_messages(browser, staff, locale, title, why):
    text = dead_letter(staff)
    admin = console_login(browser, staff, "admin", locale)
    admin.locator("#undelivered-title", has_text=title).wait_for()
    entry = admin.locator(".undelivered-item", has_text=text)
    entry.wait_for()
    assert "WhatsApp" in entry.inner_text() and why in entry.inner_text()
    admin.context.close()


def test_an_agent_has_no_such_list(browser, staff):
    agent = console_login(browser, staff, "anna")
    assert agent.locator("#undelivered").count() == 0
