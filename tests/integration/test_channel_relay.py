"""The handoff relay (bot/channels/relay.py) and the address book it reads: a colleague's
reply reaches the messenger once, whichever of several relays sees it first; a busy
platform is tried again, a refusal recorded and noted for staff; old messages are not
sent late; a failed round loses nothing; a stopped relay's messages are taken over, in
order. Against the real platforms' fakes: tests/integration/test_channel_relay_faults.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from bot.channels.outlet import Outlet, PlatformBusy, PlatformRefused
from bot.channels.relay import Relay, RetryPolicy
from conversations.address_book import AddressBook, conversation_id_for
from conversations.rendering import LIMITS, Button, Part
from handoff.store import HandoffStore, NewHandoff, utc_now
from lotse.migrate import migrated_engine

CONVERSATION = "twilio:whatsapp:+4915112345678"


class RecordingSender:
    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.sent: list[tuple[dict[str, Any], Part]] = []
        self.failures = failures
        self.error = error or PlatformBusy("twilio answered 503")

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sent.append((dict(address), part))

    @property
    def texts(self) -> list[str]:
        return [part.text for _, part in self.sent]


@pytest.fixture
def stores(tmp_path) -> tuple[HandoffStore, AddressBook]:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    store, book = HandoffStore(engine), AddressBook(engine)
    book.remember(CONVERSATION, "twilio", {"id": "whatsapp:+4915112345678"})
    return store, book


def open_handoff(store: HandoffStore) -> int:
    new = NewHandoff(CONVERSATION, "asked", "de", "sales", "sales", timedelta(minutes=2),
                     channel="twilio")  # fmt: skip
    return store.request(new).id


FAST = RetryPolicy(first=timedelta(milliseconds=10), longest=timedelta(milliseconds=50))


def relay_of(store, book, sender, **options: Any) -> Relay:
    outlets = {"twilio": Outlet("twilio", sender, LIMITS["twilio"])}
    return Relay(store, book, outlets, **{"policy": FAST, **options})


async def rounds(relays: list[Relay], count: int = 20) -> None:
    """`count` rounds of each relay, letting the sends under way finish in between."""
    for _ in range(count):
        for relay in relays:
            await relay.once()
            await relay.settle()
        await asyncio.sleep(0.01)


def test_a_reply_reaches_the_platform_once_whichever_relay_sees_it(stores) -> None:
    store, book = stores
    first, second = RecordingSender(), RecordingSender()
    relays = [relay_of(store, book, first), relay_of(store, book, second)]
    handoff = open_handoff(store)
    store.add_message(CONVERSATION, "visitor", "Hallo?", handoff)
    store.add_message(CONVERSATION, "agent", "Grüß Gott 👋", handoff, "anna", "Anna, Vertrieb")
    store.add_message(CONVERSATION, "bot", "Wie geht es weiter?", handoff,
                      buttons=[{"title": "Angebot", "payload": "/offer"}])  # fmt: skip
    asyncio.run(rounds(relays))
    assert len(first.sent) + len(second.sent) == 2
    parts = [part for _, part in first.sent + second.sent]
    assert parts[0].text == "Anna, Vertrieb: Grüß Gott 👋"  # the visitor's own line is not echoed
    assert "\n1. Angebot" in parts[1].text  # WhatsApp has no buttons: a numbered choice
    assert book.remember(CONVERSATION, "twilio", {"id": "whatsapp:+4915112345678"}) == (
        Button("Angebot", "/offer"),
    )
    assert all(d["sent_at"] is not None for d in book.deliveries(CONVERSATION))


def test_a_busy_platform_is_tried_again_until_it_takes_the_message(stores) -> None:
    store, book = stores
    flaky = RecordingSender(failures=5)
    handoff = open_handoff(store)
    store.add_message(CONVERSATION, "agent", "Ich bin da.", handoff, "anna", "Anna")
    store.add_message(CONVERSATION, "agent", "Noch eine Frage?", handoff, "anna", "Anna")
    asyncio.run(rounds([relay_of(store, book, flaky)], count=60))
    assert flaky.texts == ["Anna: Ich bin da.", "Anna: Noch eine Frage?"]  # in order, once
    assert all(d["sent_at"] is not None for d in book.deliveries(CONVERSATION))
    assert store.notes(handoff) == []


def test_a_platform_busy_past_the_window_is_given_up_and_noted(stores) -> None:
    store, book = stores
    down = RecordingSender(failures=10_000)
    handoff = open_handoff(store)
    store.add_message(CONVERSATION, "agent", "Noch da?", handoff, "anna", "Anna")
    short = RetryPolicy(first=timedelta(milliseconds=10), longest=timedelta(milliseconds=20),
                        window=timedelta(milliseconds=300))  # fmt: skip
    asyncio.run(rounds([relay_of(store, book, down, policy=short)], count=60))
    [delivery] = book.deliveries(CONVERSATION)
    assert delivery["sent_at"] is None and delivery["error"].startswith("busy: ")
    [note] = store.notes(handoff)
    assert note.author == "lotse" and "Not delivered on WhatsApp" in note.text
    assert "“Anna: Noch da?”" in note.text


def test_a_refused_message_is_not_tried_again(stores) -> None:
    store, book = stores
    blocked = RecordingSender(failures=1, error=PlatformRefused("twilio answered 400"))
    handoff = open_handoff(store)
    store.add_message(CONVERSATION, "agent", "Hallo?", handoff, "anna", "Anna")
    asyncio.run(rounds([relay_of(store, book, blocked)]))
    assert blocked.sent == [] and blocked.failures == 0
    [delivery] = book.deliveries(CONVERSATION)
    assert delivery["error"] == "refused: twilio answered 400"
    assert "refused it (twilio answered 400)" in store.notes(handoff)[0].text


def test_old_messages_and_other_channels_are_not_sent(stores) -> None:
    store, book = stores
    sender = RecordingSender()
    handoff = open_handoff(store)
    long_ago = utc_now() - timedelta(hours=2)
    store.add_message(CONVERSATION, "agent", "Von gestern", handoff, "anna", "Anna", now=long_ago)
    store.add_message("web-1234", "agent", "Für die Website", handoff, "anna", "Anna")
    asyncio.run(rounds([relay_of(store, book, sender)], count=3))
    assert sender.sent == []
    [expired] = book.deliveries(CONVERSATION)  # the website's message is not ours
    assert expired["error"].startswith("expired")
    assert "it was not sent late" in store.notes(handoff)[0].text


class FailingOnce(AddressBook):
    """An address book whose first lookup fails, as a database restarting does."""

    failed_once = False

    def address(self, conversation_id: str):  # noqa: ANN201
        if not self.failed_once:
            self.failed_once = True
            raise ConnectionError("database restarting")
        return super().address(conversation_id)


def test_a_round_that_fails_loses_no_message(tmp_path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    store, book = HandoffStore(engine), FailingOnce(engine)
    book.remember(CONVERSATION, "twilio", {"id": "whatsapp:+4915112345678"})
    handoff = open_handoff(store)
    store.add_message(CONVERSATION, "agent", "Ich bin da.", handoff, "anna", "Anna")
    sender = RecordingSender()
    relay = relay_of(store, book, sender)

    async def run_a_while() -> None:
        task = asyncio.create_task(relay.run(0.01))
        await asyncio.sleep(0.5)
        task.cancel()

    asyncio.run(run_a_while())
    assert book.failed_once and sender.texts == ["Anna: Ich bin da."]


def test_a_stopped_relays_messages_are_taken_over_in_order(stores) -> None:
    store, book = stores
    handoff = open_handoff(store)
    first = store.add_message(CONVERSATION, "agent", "Erstens", handoff, "anna", "Anna")
    store.add_message(CONVERSATION, "agent", "Zweitens", handoff, "anna", "Anna")
    assert book.claim(first.id, CONVERSATION)  # a relay that stopped before sending it
    sender = RecordingSender()
    relay = relay_of(store, book, sender, lease=timedelta(milliseconds=200))
    asyncio.run(rounds([relay], count=3))
    assert sender.sent == []  # "Zweitens" waits for "Erstens", held elsewhere
    time.sleep(0.3)  # the stopped relay's claim runs out
    relay._swept = relay._renewed = utc_now() - timedelta(minutes=1)  # sweep at once
    asyncio.run(rounds([relay], count=5))
    assert sender.texts == ["Anna: Erstens", "Anna: Zweitens"]


def test_conversation_ids_name_the_channel_and_drop_unsafe_characters() -> None:
    assert conversation_id_for("telegram", 4242) == "telegram:4242"
    assert conversation_id_for("twilio", "whatsapp:+49 151") == "twilio:whatsapp:+49151"
    assert conversation_id_for("slack", "<script>") == "slack:script"
    assert conversation_id_for("slack", "") is None


def test_the_address_book_keeps_the_latest_address_and_the_choices_shown(tmp_path) -> None:
    book = AddressBook(migrated_engine(f"sqlite:///{tmp_path / 'book.db'}"))
    assert book.remember("slack:U1", "slack", {"id": "U1", "thread": "1.0"}) == ()
    book.set_menu("slack:U1", (Button("Ja", "/affirm"),))
    assert book.remember("slack:U1", "slack", {"id": "U1", "thread": "2.0"}) == (
        Button("Ja", "/affirm"),
    )
    assert book.address("slack:U1") == ("slack", {"id": "U1", "thread": "2.0"})
    assert book.address("web-1") is None
