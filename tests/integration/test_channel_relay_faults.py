"""The handoff relay against the five platforms in trouble (issue 18): what staff write
reaches the person once, in order, through an outage, a rate limit and a slow answer;
what a platform refuses, or may not have received, is not sent again and is shown to
staff in the console.

The platforms are `tests/support/faulty_messengers.py` (the fakes of
`tests/support/fake_messengers.py` with scripted faults); the senders are the channels'
own, pointed at them. Two relays run side by side on one store, as two Rasa replicas
do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.channels.botframework import TOKEN_URL_VARIABLE, BotFrameworkSender
from bot.channels.facebook import API_URL_VARIABLE as FACEBOOK_API
from bot.channels.facebook import FacebookSender
from bot.channels.outlet import Outlet
from bot.channels.relay import Relay
from bot.channels.slack import API_URL_VARIABLE as SLACK_API
from bot.channels.slack import SlackSender
from bot.channels.telegram import API_URL_VARIABLE as TELEGRAM_API
from bot.channels.telegram import TelegramSender
from bot.channels.twilio import API_URL_VARIABLE as TWILIO_API
from bot.channels.twilio import TwilioSender
from conversations.address_book import AddressBook
from conversations.rendering import LIMITS
from handoff.store import HandoffStore, NewHandoff
from lotse.migrate import migrated_engine
from tests.support import fake_messengers as fm
from tests.support.console_client import add_users, console_server, logged_in
from tests.support.faulty_messengers import (
    BLOCKED,
    DOWN,
    LIMITED,
    RETRY_AFTER_SECONDS,
    SILENT,
    SLOW,
    FaultyMessengers,
    texts_sent,
)

CHANNELS = ("telegram", "facebook", "twilio", "slack", "botframework")
WITH_RETRY_AFTER = ("telegram", "slack", "botframework")  # Meta and Twilio send none


@dataclass(frozen=True)
class Person:
    conversation_id: str
    address: dict
    recipient: str  # how the platform's API names them (fake_messengers.Sent.recipient)


def person(channel: str, fake: fm.FakeMessengers) -> Person:
    return {
        "telegram": Person("telegram:4242", {"id": "4242"}, "4242"),
        "facebook": Person("facebook:6100200300", {"id": "6100200300"}, "6100200300"),
        "twilio": Person("twilio:whatsapp:+4915112345678", {"id": "whatsapp:+4915112345678"},
                         "whatsapp:+4915112345678"),
        "slack": Person("slack:U0ANNA", {"id": "U0ANNA", "channel": "D0ANNA", "thread": None},
                        "D0ANNA"),
        "botframework": Person(
            "botframework:29:1anna",
            {"id": "29:1anna", "conversation": "a:anna", "service_url": f"{fake.url}/botframework",
             "bot": {"id": "28:bot", "name": "Nordwerk"}},
            "29:1anna"),
    }[channel]  # fmt: skip


@dataclass
class World:
    fake: FaultyMessengers
    store: HandoffStore
    book: AddressBook
    database_url: str

    def outlets(self) -> dict[str, Outlet]:
        senders = {
            "telegram": TelegramSender(fm.TELEGRAM_TOKEN),
            "facebook": FacebookSender(fm.FACEBOOK_PAGE_TOKEN),
            "twilio": TwilioSender(fm.TWILIO_SID, fm.TWILIO_TOKEN, fm.TWILIO_NUMBER),
            "slack": SlackSender(fm.SLACK_TOKEN),
            "botframework": BotFrameworkSender(fm.TEAMS_APP_ID, fm.TEAMS_PASSWORD),
        }
        return {c: Outlet(c, s, LIMITS[c]) for c, s in senders.items()}

    def handoff(self, channel: str) -> tuple[Person, int]:
        who = person(channel, self.fake)
        self.book.remember(who.conversation_id, channel, who.address)
        new = NewHandoff(who.conversation_id, "asked", "de", "sales", "sales",
                         timedelta(minutes=2), channel=channel)  # fmt: skip
        return who, self.store.request(new).id

    def staff_writes(self, who: Person, handoff_id: int, *texts: str) -> None:
        for text in texts:
            self.store.add_message(who.conversation_id, "agent", text, handoff_id, "anna", "Anna")


@pytest.fixture
def world(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with FaultyMessengers() as fake:
        for name, path in ((TELEGRAM_API, "telegram"), (FACEBOOK_API, "facebook"),
                           (TWILIO_API, "twilio"), (SLACK_API, "slack/api"),
                           (TOKEN_URL_VARIABLE, "botframework/token")):  # fmt: skip
            monkeypatch.setenv(name, f"{fake.url}/{path}")
        url = f"sqlite:///{tmp_path / 'lotse.db'}"
        engine = migrated_engine(url)
        yield World(fake, HandoffStore(engine), AddressBook(engine), url)


def relaying(relays: list[Relay], done: Callable[[], bool], timeout: float = 60) -> None:
    """Runs the relays (as Rasa runs each) until `done()`, then half a second more: a
    message sent twice would arrive then."""

    async def main() -> None:
        tasks = [asyncio.create_task(r.run(0.05)) for r in relays]
        deadline = time.monotonic() + timeout
        try:
            while not done() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


REPLIES = ("Grüß Gott, hier ist Anna 👋", "Die P400 gibt es ab 140.000 EUR.",
           "Ich schicke Ihnen das Angebot bis Freitag.")  # fmt: skip


def test_through_an_outage_a_rate_limit_and_a_slow_answer_every_reply_arrives_once_in_order(
    world: World,
) -> None:
    people = {}
    for channel in CHANNELS:
        who, handoff_id = world.handoff(channel)
        people[channel] = who
        world.fake.script(channel, DOWN, DOWN, LIMITED, SLOW)
        world.staff_writes(who, handoff_id, *REPLIES)
    expected = [f"Anna: {text}" for text in REPLIES]
    relays = [Relay(world.store, world.book, world.outlets()) for _ in range(2)]

    relaying(relays, lambda: all(len(texts_sent(world.fake, c)) >= 3 for c in CHANNELS))

    for channel in CHANNELS:
        assert texts_sent(world.fake, channel) == expected, channel  # none lost, none twice
        who = people[channel]
        assert len(world.fake.sent_to(channel, who.recipient)) == 3, channel
        deliveries = world.book.deliveries(who.conversation_id)
        assert [d["sent_at"] is not None for d in deliveries] == [True] * 3, channel
        assert all(d["error"] is None for d in deliveries), channel
    for channel in WITH_RETRY_AFTER:  # the platform said when: not asked again before
        attempts = world.fake.attempts_of(channel)
        limited = next(i for i, a in enumerate(attempts) if a.fault == LIMITED)
        waited = attempts[limited + 1].at - attempts[limited].at
        assert waited >= RETRY_AFTER_SECONDS - 0.05, (channel, waited)


def test_a_reply_the_platform_refuses_is_not_tried_again_and_staff_see_it_in_the_console(
    world: World,
) -> None:
    handoffs = {}
    for channel in CHANNELS:
        who, handoff_id = world.handoff(channel)
        handoffs[channel] = (who, handoff_id)
        world.fake.script(channel, BLOCKED)
        world.staff_writes(who, handoff_id, "Sind Sie noch da?", "Dann bis bald!")
    relays = [Relay(world.store, world.book, world.outlets())]

    relaying(relays, lambda: all(len(world.fake.attempts_of(c)) >= 2 for c in CHANNELS))

    for channel, (who, _handoff_id) in handoffs.items():
        attempts = world.fake.attempts_of(channel)
        assert [a.fault for a in attempts] == [BLOCKED, None], channel  # not tried again
        assert texts_sent(world.fake, channel) == ["Anna: Dann bis bald!"]  # the next went on
        refused, sent = world.book.deliveries(who.conversation_id)
        assert refused["sent_at"] is None and refused["error"], channel
        assert sent["sent_at"] is not None
    add_users(world.database_url)
    with console_server(world.database_url, {"LOTSE_CONSOLE_INSECURE_COOKIES": "1"}) as base:
        admin = logged_in(base, "admin")
        for channel, (_who, handoff_id) in handoffs.items():
            [note] = admin.get(f"/console/api/handoffs/{handoff_id}").json()["notes"]
            assert "not delivered" in note["text"].lower(), channel
            assert "Sind Sie noch da?" in note["text"]


def test_a_reply_that_may_have_arrived_is_not_sent_twice_and_staff_are_told(world: World) -> None:
    who, handoff_id = world.handoff("telegram")
    world.fake.script("telegram", SILENT)
    world.staff_writes(who, handoff_id, "Ich rufe Sie gleich an.")
    relays = [Relay(world.store, world.book, world.outlets()) for _ in range(2)]

    relaying(relays, lambda: bool(world.store.notes(handoff_id)), timeout=20)

    assert [a.fault for a in world.fake.attempts_of("telegram")] == [SILENT]
    [delivery] = world.book.deliveries(who.conversation_id)
    assert delivery["sent_at"] is None and delivery["error"]
    [note] = world.store.notes(handoff_id)
    assert "may not have" in note.text and "Ich rufe Sie gleich an." in note.text
