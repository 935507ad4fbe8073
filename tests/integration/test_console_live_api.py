"""Who is typing and what reached a messenger, over the console's real HTTP: the agent who
has a conversation reports typing and reads the visitor's, the event stream says when
typing changed (ids only), nobody else types or reads it, and a messenger
conversation's staff messages carry their delivery. The rules themselves are tested in
test_typing_and_delivery.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conversations.address_book import AddressBook
from handoff.desk import Actor, Ask, Desk
from handoff.routing import RoutingRequest
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine
from tests.conftest import set_clock
from tests.integration.test_console_api import TUESDAY_10
from tests.support.console_client import add_users, console_server, logged_in
from wiring.services import file_clock

WHATSAPP = "twilio:+4915112345678"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'lotse.db'}"
    add_users(url)
    return url


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "clock"
    set_clock(path, TUESDAY_10)
    return path


@pytest.fixture(scope="module")
def base(database: str, clock: Path) -> Iterator[str]:
    with console_server(database, {"LOTSE_TEST_CLOCK_FILE": str(clock)}) as url:
        yield url


@pytest.fixture
def desk(database: str, clock: Path) -> Desk:
    """A desk on the console's clock (typing counts for seconds of it)."""
    store = HandoffStore(migrated_engine(database))
    return Desk(store, load_routing_model(), load_handoff_texts(), clock=file_clock(clock))


def claimed_by_anna(desk: Desk, conversation: str, channel: str = "rest") -> int:
    ask = Ask(conversation, "visitor_asked", RoutingRequest(language="de"), channel)
    handoff_id = desk.request(ask).handoff.id  # type: ignore[union-attr]
    desk.claim(handoff_id, Actor("anna", "agent", "anna"))
    return handoff_id


def test_the_agent_and_the_visitor_see_each_other_type(base: str, desk: Desk):
    handoff_id = claimed_by_anna(desk, "web-live-1")
    anna = logged_in(base, "anna")
    path = f"/console/api/handoffs/{handoff_id}/typing"
    assert anna.get(path).json() == {"visitor": {"typing": False, "seconds": 0.0},
                                     "agent": {"typing": False, "seconds": 0.0}}  # fmt: skip

    reported = anna.put(path, {"typing": True})
    assert reported.status_code == 200, reported.text
    assert reported.json()["agent"]["typing"] and 4 < reported.json()["agent"]["seconds"] <= 5
    assert desk.typing_in(handoff_id, Actor("anna", "agent", "anna")).agent is not None

    desk.visitor_typing("web-live-1", True)
    seen = anna.get(path).json()
    assert seen["visitor"]["typing"] and 0 < seen["visitor"]["seconds"] <= 5
    desk.visitor_wrote("web-live-1", "Eine Frage noch")
    assert anna.get(path).json()["visitor"] == {"typing": False, "seconds": 0.0}

    assert anna.put(path, {"typing": False}).json()["agent"] == {"typing": False, "seconds": 0.0}


def test_only_the_agent_who_has_it_types_and_only_readers_see_it(base: str, desk: Desk):
    handoff_id = claimed_by_anna(desk, "web-live-2")
    path = f"/console/api/handoffs/{handoff_id}/typing"
    anna, jonas, admin = (logged_in(base, name) for name in ("anna", "jonas", "admin"))
    assert jonas.get(path).status_code == 403
    assert jonas.put(path, {"typing": True}).status_code == 403
    assert requests.put(f"{base}{path}", json={"typing": True}, timeout=30,
                        headers=anna.headers(csrf=False)).status_code == 403  # fmt: skip
    for bad in ({}, {"typing": "yes"}, {"typing": 1}):
        assert anna.put(path, bad).status_code == 422
    assert admin.get(path).status_code == 200
    assert anna.get("/console/api/handoffs/999999/typing").status_code == 404

    assert anna.post(f"/console/api/handoffs/{handoff_id}/hand-back").status_code == 200
    assert anna.get(path).status_code == 403  # not hers any more
    assert anna.put(path, {"typing": True}).status_code == 403


def test_the_event_stream_says_that_someone_types_with_an_id_only(base: str, desk: Desk):
    handoff_id = claimed_by_anna(desk, "web-live-3")
    anna = logged_in(base, "anna")
    events = requests.get(f"{base}/console/api/events", headers=anna.headers(csrf=False),
                          stream=True, timeout=30)  # fmt: skip
    try:
        lines = events.iter_lines(decode_unicode=True)
        assert next(lines).startswith("event: change")
        desk.visitor_typing("web-live-3", True)
        for line in lines:
            if line.startswith("event: typing"):
                data = next(lines)
                assert data.removeprefix("data: ").isdigit()  # no conversation, no person
                break
    finally:
        events.close()
    assert handoff_id


def test_a_messenger_conversations_replies_say_whether_they_arrived(base: str, desk: Desk):
    book = AddressBook(desk.store.engine)
    book.remember(WHATSAPP, "twilio", {"to": f"whatsapp:{WHATSAPP.partition(':')[2]}"})
    handoff_id = claimed_by_anna(desk, WHATSAPP, "twilio")
    anna = logged_in(base, "anna")
    sent, refused, open_ = (
        anna.post(f"/console/api/handoffs/{handoff_id}/messages", {"text": text}).json()["id"]
        for text in ("Guten Tag!", "Ich rufe Sie an.", "Bis gleich.")
    )
    for message in (sent, refused):
        assert book.claim(message, WHATSAPP)
    book.sent(sent)
    book.failed(refused, "refused: twilio answered 400 (63016: outside the 24-hour window)")

    reply = anna.get(f"/console/api/handoffs/{handoff_id}/deliveries")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["messenger"] is True
    assert [(d["message_id"], d["status"]) for d in body["deliveries"]] == [
        (sent, "delivered"), (refused, "failed"), (open_, "pending"),
    ]  # fmt: skip
    failed = body["deliveries"][1]
    assert (failed["kind"], failed["reason"]) == (
        "refused", "twilio answered 400 (63016: outside the 24-hour window)",
    )  # fmt: skip
    jonas = logged_in(base, "jonas")
    assert jonas.get(f"/console/api/handoffs/{handoff_id}/deliveries").status_code == 403


def test_a_website_conversation_has_no_deliveries_and_the_queue_knows_the_visitors_last_word(
    base: str, desk: Desk
):
    handoff_id = claimed_by_anna(desk, "web-live-4")
    anna = logged_in(base, "anna")
    assert anna.post(f"/console/api/handoffs/{handoff_id}/messages", {"text": "Hallo"}).ok
    body = anna.get(f"/console/api/handoffs/{handoff_id}/deliveries").json()
    assert body == {"messenger": False, "deliveries": []}

    def last_word() -> int | None:
        queue = anna.get("/console/api/queue").json()["handoffs"]
        return next(h for h in queue if h["id"] == handoff_id)["last_visitor_message"]

    assert last_word() is None
    desk.visitor_wrote("web-live-4", "Danke!")
    first = last_word()
    desk.visitor_wrote("web-live-4", "Noch etwas")
    assert first is not None and last_word() > first
