"""The handoff relay (bot/channels/relay.py) and the address book it reads: a colleague's
reply reaches the messenger once, whichever of several relays sees it first; a failing
platform is tried again and the failure recorded; old messages are not sent late."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from bot.channels.address_book import AddressBook, conversation_id_for
from bot.channels.outlet import Outlet
from bot.channels.relay import Relay
from bot.channels.rendering import LIMITS, Button, Part
from crm_adapter.store.engine import make_crm_engine
from handoff.store import HandoffStore, NewHandoff, utc_now

CONVERSATION = "twilio:whatsapp:+4915112345678"


class RecordingSender:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[dict[str, Any], Part]] = []
        self.failures = failures

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform down")
        self.sent.append((dict(address), part))


@pytest.fixture
def stores(tmp_path) -> tuple[HandoffStore, AddressBook]:
    engine = make_crm_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    store, book = HandoffStore(engine), AddressBook(engine)
    book.remember(CONVERSATION, "twilio", {"id": "whatsapp:+4915112345678"})
    return store, book


def open_handoff(store: HandoffStore) -> int:
    new = NewHandoff(CONVERSATION, "asked", "de", "sales", "sales", timedelta(minutes=2),
                     channel="twilio")  # fmt: skip
    return store.request(new).id


def relay_of(store, book, sender) -> Relay:
    return Relay(store, book, {"twilio": Outlet("twilio", sender, LIMITS["twilio"])},
                 retry_seconds=0)  # fmt: skip


def test_a_reply_reaches_the_platform_once_whichever_relay_sees_it(stores) -> None:
    store, book = stores
    first, second = RecordingSender(), RecordingSender()
    relays = [relay_of(store, book, first), relay_of(store, book, second)]
    handoff = open_handoff(store)
    store.add_message(CONVERSATION, "visitor", "Hallo?", handoff)
    store.add_message(CONVERSATION, "agent", "Grüß Gott 👋", handoff, "anna", "Anna, Vertrieb")
    store.add_message(CONVERSATION, "bot", "Wie geht es weiter?", handoff,
                      buttons=[{"title": "Angebot", "payload": "/offer"}])  # fmt: skip
    sent = sum(asyncio.run(r.once()) for r in relays)
    assert sent == 2
    parts = [part for _, part in first.sent + second.sent]
    assert parts[0].text == "Anna, Vertrieb: Grüß Gott 👋"  # the visitor's own line is not echoed
    assert "\n1. Angebot" in parts[1].text  # WhatsApp has no buttons: a numbered choice
    assert book.remember(CONVERSATION, "twilio", {"id": "whatsapp:+4915112345678"}) == (
        Button("Angebot", "/offer"),
    )
    assert all(d["sent_at"] is not None for d in book.deliveries(CONVERSATION))


def test_a_failing_platform_is_tried_again_then_the_failure_is_recorded(stores) -> None:
    store, book = stores
    flaky = RecordingSender(failures=2)
    handoff = open_handoff(store)
    store.add_message(CONVERSATION, "agent", "Ich bin da.", handoff, "anna", "Anna")
    assert asyncio.run(relay_of(store, book, flaky).once()) == 1
    assert [p.text for _, p in flaky.sent] == ["Anna: Ich bin da."]
    down = RecordingSender(failures=99)
    store.add_message(CONVERSATION, "agent", "Noch da?", handoff, "anna", "Anna")
    assert asyncio.run(relay_of(store, book, down).once()) == 0
    [*_, last] = book.deliveries(CONVERSATION)
    assert last["sent_at"] is None and last["error"] == "ConnectionError"


def test_old_messages_and_other_channels_are_not_sent(stores) -> None:
    store, book = stores
    sender = RecordingSender()
    handoff = open_handoff(store)
    long_ago = utc_now() - timedelta(hours=2)
    store.add_message(CONVERSATION, "agent", "Von gestern", handoff, "anna", "Anna", now=long_ago)
    store.add_message("web-1234", "agent", "Für die Website", handoff, "anna", "Anna")
    assert asyncio.run(relay_of(store, book, sender).once()) == 0
    assert sender.sent == []


def test_conversation_ids_name_the_channel_and_drop_unsafe_characters() -> None:
    assert conversation_id_for("telegram", 4242) == "telegram:4242"
    assert conversation_id_for("twilio", "whatsapp:+49 151") == "twilio:whatsapp:+49151"
    assert conversation_id_for("slack", "<script>") == "slack:script"
    assert conversation_id_for("slack", "") is None


def test_the_address_book_keeps_the_latest_address_and_the_choices_shown(tmp_path) -> None:
    book = AddressBook(make_crm_engine(f"sqlite:///{tmp_path / 'book.db'}"))
    assert book.remember("slack:U1", "slack", {"id": "U1", "thread": "1.0"}) == ()
    book.set_menu("slack:U1", (Button("Ja", "/affirm"),))
    assert book.remember("slack:U1", "slack", {"id": "U1", "thread": "2.0"}) == (
        Button("Ja", "/affirm"),
    )
    assert book.address("slack:U1") == ("slack", {"id": "U1", "thread": "2.0"})
    assert book.address("web-1") is None
