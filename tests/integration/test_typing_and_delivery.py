"""Who is typing (`handoff.typing_indicator`, through the desk's rules) and whether staff
messages reached a messenger (`conversations.delivery_status`), on a real SQLite store
migrated as `lotse run` brings it up. The HTTP routes are in test_console_live_api.py,
the widget's side in test_website.py and test_website_security.py."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from conversations.address_book import AddressBook
from conversations.delivery_status import DELIVERED, FAILED, PENDING, DeliveryStatuses, status_of
from handoff.desk import Actor, Ask, Desk, NotAllowed
from handoff.routing import RoutingRequest
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore
from handoff.texts import load_handoff_texts
from handoff.typing_indicator import TypingState
from lotse.migrate import migrated_engine
from website.updates import FeedWatcher

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ANNA = Actor("anna", "agent", "anna")
JONAS = Actor("jonas", "agent", "jonas")


class Clock:
    def __init__(self) -> None:
        self.now = TUESDAY_10

    def __call__(self) -> datetime:
        return self.now

    def pass_(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(tmp_path, clock: Clock) -> Desk:
    store = HandoffStore(migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}"))
    return Desk(store, load_routing_model(), load_handoff_texts(), clock=clock)


def claimed(desk: Desk, conversation: str, channel: str = "rest") -> int:
    ask = Ask(conversation, "visitor_asked", RoutingRequest(language="de"), channel)
    handoff_id = desk.request(ask).handoff.id  # type: ignore[union-attr]
    desk.claim(handoff_id, ANNA)
    return handoff_id


def test_the_visitor_and_the_agent_type_until_five_seconds_after_their_last_report(desk, clock):
    handoff_id = claimed(desk, "web-typing")
    assert desk.typing_in(handoff_id, ANNA) == TypingState()

    assert desk.visitor_typing("web-typing", True)
    state = desk.agent_typing(handoff_id, ANNA, True)
    assert state == TypingState(clock.now + timedelta(seconds=5), clock.now + timedelta(seconds=5))

    clock.pass_(4.9)
    assert desk.typing_in(handoff_id, ANNA).visitor is not None
    clock.pass_(0.2)
    assert desk.typing_in(handoff_id, ANNA) == TypingState()


def test_reports_within_a_second_and_a_half_write_nothing_and_a_stop_ends_it_at_once(desk, clock):
    handoff_id = claimed(desk, "web-throttle")
    typing = desk.typing
    desk.agent_typing(handoff_id, ANNA, True)
    first = typing.latest_id()
    clock.pass_(1.0)
    assert desk.agent_typing(handoff_id, ANNA, True).agent == TUESDAY_10 + timedelta(seconds=5)
    assert typing.latest_id() == first  # nothing written: nobody is woken for nothing
    clock.pass_(1.0)
    assert desk.agent_typing(handoff_id, ANNA, True).agent == clock.now + timedelta(seconds=5)
    assert typing.latest_id() > first

    assert desk.agent_typing(handoff_id, ANNA, False).agent is None
    stopped = typing.latest_id()
    assert stopped > first  # a stop is news too (the widget hides the indicator)
    assert desk.agent_typing(handoff_id, ANNA, False).agent is None
    assert typing.latest_id() == stopped  # not typing anyway: nothing written


def test_sending_the_message_ends_its_writers_typing_and_no_other(desk, clock):
    handoff_id = claimed(desk, "web-sent")
    desk.visitor_typing("web-sent", True)
    desk.agent_typing(handoff_id, ANNA, True)
    desk.visitor_wrote("web-sent", "Haben Sie die P400 auf Lager?")
    state = desk.typing_in(handoff_id, ANNA)
    assert state.visitor is None and state.agent is not None
    desk.reply(handoff_id, ANNA, "Ja, ab Lager.")
    assert desk.typing_in(handoff_id, ANNA) == TypingState()


def test_only_the_person_who_has_it_types_and_only_readers_see_who_types(desk):
    handoff_id = claimed(desk, "web-rules")
    with pytest.raises(NotAllowed):
        desk.agent_typing(handoff_id, JONAS, True)
    with pytest.raises(NotAllowed):
        desk.typing_in(handoff_id, JONAS)
    desk.visitor_typing("web-rules", True)
    desk.hand_back(handoff_id, ANNA)
    # Back with the bot: the visitor's typing is nobody's business, and not recorded.
    assert desk.typing_in(handoff_id, Actor("admin", "admin", None)) == TypingState()
    assert not desk.visitor_typing("web-rules", True)
    assert not desk.visitor_typing("web-nobody", True)
    with pytest.raises(NotAllowed):
        desk.agent_typing(handoff_id, ANNA, True)


def test_a_waiting_visitor_types_for_whoever_may_claim(desk):
    ask = Ask("web-waiting", "visitor_asked", RoutingRequest(language="de"), "rest")
    handoff_id = desk.request(ask).handoff.id  # type: ignore[union-attr]
    assert desk.visitor_typing("web-waiting", True)
    assert desk.typing_in(handoff_id, Actor("admin", "admin", None)).visitor is not None


def test_the_typing_feed_names_the_conversations_and_holds_two_rows_per_handoff_at_most(
    desk, clock
):
    one, other = claimed(desk, "web-one"), claimed(desk, "web-other")
    start = desk.typing.latest_id()
    for _ in range(5):
        desk.visitor_typing("web-one", True)
        desk.agent_typing(other, ANNA, True)
        clock.pass_(2)
    changed = desk.typing.changed_since(start)
    assert {conversation for _, conversation in changed} == {"web-one", "web-other"}
    assert len(desk.typing.changed_since(0)) == 2  # each write replaced its side's row
    assert one != other


def test_the_widgets_long_poll_answers_when_the_agent_starts_and_stops_typing(desk, clock):
    handoff_id = claimed(desk, "web-poll")
    watcher = FeedWatcher(desk, poll_seconds=0.01)
    try:
        seen = asyncio.run(watcher.updates("web-poll", 10**9, wait=0.2))
        assert seen["typing"] == {"agent": False, "seconds": 0.0}

        async def poll_while_typing() -> dict:
            polling = asyncio.create_task(watcher.updates("web-poll", 10**9, wait=5))
            await asyncio.sleep(0.1)
            assert not polling.done()
            await asyncio.to_thread(desk.agent_typing, handoff_id, ANNA, True)
            return await asyncio.wait_for(polling, 2)

        started = asyncio.run(poll_while_typing())
        assert started["typing"] == {"agent": True, "seconds": 5.0}
        # The widget shows it now; it hears of the stop.
        desk.agent_typing(handoff_id, ANNA, False)
        stopped = asyncio.run(watcher.updates("web-poll", 10**9, wait=2, typing=True))
        assert stopped["typing"]["agent"] is False
    finally:
        watcher.stop()


# ---------------------------------------------------------------- deliveries


def test_a_delivery_row_reads_as_delivered_failed_with_the_platforms_error_or_pending():
    at = TUESDAY_10
    row = SimpleNamespace
    assert status_of(1, None).status == PENDING
    assert status_of(2, row(sent_at=at, error=None, claimed_at=at)).status == DELIVERED
    failed = status_of(3, row(sent_at=None, error="refused: twilio answered 400", claimed_at=at))
    assert (failed.status, failed.kind, failed.reason) == (FAILED, "refused", "twilio answered 400")
    assert status_of(4, row(sent_at=None, error=None, claimed_at=at)).status == PENDING


def test_the_staff_messages_of_a_messenger_conversation_with_their_delivery(desk):
    engine = desk.store.engine
    book = AddressBook(engine)
    book.remember("twilio:+4915112345678", "twilio", {"to": "whatsapp:+4915112345678"})
    handoff_id = claimed(desk, "twilio:+4915112345678", "twilio")
    sent, refused, waiting, unclaimed = (
        desk.reply(handoff_id, ANNA, text).id for text in ("Eins", "Zwei", "Drei", "Vier")
    )
    for message in (sent, refused, waiting):
        assert book.claim(message, "twilio:+4915112345678")
    book.sent(sent)
    book.failed(refused, "refused: twilio answered 400 (63016: outside the 24-hour window)")

    found = DeliveryStatuses(engine).of(
        "twilio:+4915112345678", [sent, refused, waiting, unclaimed]
    )
    assert [(s.message_id, s.status) for s in found] == [
        (sent, DELIVERED), (refused, FAILED), (waiting, PENDING), (unclaimed, PENDING),
    ]  # fmt: skip
    assert found[0].at is not None and found[3].at is None
    assert (found[1].kind, found[1].reason) == (
        "refused", "twilio answered 400 (63016: outside the 24-hour window)",
    )  # fmt: skip


def test_a_website_conversation_has_no_deliveries(desk):
    handoff_id = claimed(desk, "web-site")
    message = desk.reply(handoff_id, ANNA, "Hallo").id
    statuses = DeliveryStatuses(desk.store.engine)
    assert not statuses.is_messenger("web-site")
    assert statuses.of("web-site", [message]) == []
