"""The messengers' dead letters in the console (issue 23): admins list every message
the relay gave up on, the bot's answers and staff messages, with why; nobody else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from conversations.address_book import AddressBook
from handoff.store import HandoffStore, NewHandoff
from lotse.migrate import migrated_engine
from tests.support.console_client import add_users, console_server, logged_in

PATH = "/console/api/undelivered"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('undelivered') / 'lotse.db'}"
    add_users(url)
    engine = migrated_engine(url)
    store, book = HandoffStore(engine), AddressBook(engine)
    book.remember("twilio:whatsapp:+4915112345678", "twilio", {"id": "whatsapp:+4915112345678"})
    with engine.begin() as c:  # the bot's answer, queued by a messenger turn
        answer = store.add_message_in(c, "twilio:whatsapp:+4915112345678", "bot",
                                      "Die P400 kostet ab 140.000 EUR. " * 10)  # fmt: skip
    asked = NewHandoff("twilio:whatsapp:+4915112345678", "asked", "de", "sales", "sales",
                       timedelta(minutes=2), channel="twilio")  # fmt: skip
    handoff = store.request(asked)
    reply = store.add_message("twilio:whatsapp:+4915112345678", "agent", "Hallo, hier Anna",
                              handoff.id, "anna", "Anna")  # fmt: skip
    sent = store.add_message("twilio:whatsapp:+4915112345678", "agent", "Noch da?", handoff.id,
                             "anna", "Anna")  # fmt: skip
    for message_id in (answer, reply.id, sent.id):
        book.claim(message_id, "twilio:whatsapp:+4915112345678")
    book.failed(answer, "busy: twilio answered 503; 14 attempts")
    book.failed(reply.id, "refused: twilio answered 400")
    book.sent(sent.id)
    with console_server(url) as served:
        yield served


def test_an_admin_sees_each_message_the_relay_gave_up_on(base: str):
    reply = logged_in(base, "admin").get(PATH)
    assert reply.status_code == 200, reply.text
    listed = reply.json()["undelivered"]
    assert [(d["from"], d["kind"], d["reason"]) for d in listed] == [
        ("agent", "refused", "twilio answered 400"),
        ("bot", "busy", "twilio answered 503; 14 attempts"),
    ]
    assert listed[0]["excerpt"] == "Hallo, hier Anna" and listed[0]["handoff_id"] is not None
    assert listed[1]["handoff_id"] is None and listed[1]["channel"] == "twilio"
    assert listed[1]["excerpt"].endswith("…") and len(listed[1]["excerpt"]) <= 121


def test_only_admins_see_them(base: str):
    assert logged_in(base, "anna").get(PATH).status_code == 403
    assert requests.get(f"{base}{PATH}", timeout=30).status_code == 401
