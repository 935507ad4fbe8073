"""The channel inbox and its worker on a real database (issue 23): an event is stored
once, turns run in order per conversation, one worker of several takes an event, a
stopped worker's event is taken over, and a turn's answers are queued with its end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.inbox import SEND_AGAIN, InboxWorker, Stores
from conversations.address_book import AddressBook
from conversations.channel_inbox import ChannelInbox
from handoff.store import HandoffStore
from lotse.migrate import migrated_engine
from tests.integration.test_crm_store import postgres_database

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    """On SQLite and on PostgreSQL (its tables emptied between tests)."""
    if request.param == "sqlite":
        engine = migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}")
    else:
        engine = migrated_engine(request.getfixturevalue("postgres_url"))
        with engine.begin() as c:
            c.exec_driver_sql("TRUNCATE channel_inbox, handoff_messages, channel_addresses, "
                              "channel_deliveries RESTART IDENTITY")  # fmt: skip
    yield Stores(ChannelInbox(engine), HandoffStore(engine), AddressBook(engine))
    engine.dispose()


def stored(stores: Stores, key: str, conversation: str, text: str) -> bool:
    message = {"text": text, "metadata": {}, "address": {"id": conversation.split(":")[1]}}
    return stores.inbox.accept("telegram", key, conversation, message)


def test_an_event_is_stored_once_by_its_platform_id(stores):
    assert stored(stores, "1001", "telegram:7", "Hallo")
    assert not stored(stores, "1001", "telegram:7", "Hallo")
    assert stores.inbox.seen("telegram", "1001") and not stores.inbox.seen("slack", "1001")
    assert stores.inbox.accept("slack", "1001", "slack:U1", {"text": "x"})  # per channel
    assert [e["event_key"] for e in stores.inbox.events("telegram:7")] == ["1001"]


def test_only_each_conversations_oldest_open_event_is_offered(stores):
    for key, conversation in (("1", "telegram:7"), ("2", "telegram:8"), ("3", "telegram:7")):
        stored(stores, key, conversation, "Hallo")
    heads = stores.inbox.heads(("telegram",))
    assert [c for _, c in heads] == ["telegram:7", "telegram:8"]
    first = heads[0][0]
    assert stores.inbox.claim(first, T0, now=T0)
    assert not stores.inbox.claim(first, T0, now=T0)  # one winner
    with stores.inbox.engine.begin() as c:
        assert stores.inbox.finish_in(c, first, "answered", T0)
    with stores.inbox.engine.begin() as c:
        assert not stores.inbox.finish_in(c, first, "answered", T0)  # done already
    # telegram:7's next event (id 3) is now its oldest open one, after telegram:8's (2)
    assert [c for _, c in stores.inbox.heads(("telegram",))] == ["telegram:8", "telegram:7"]
    assert stores.inbox.heads(("slack",)) == []


def test_a_claim_older_than_the_lease_is_taken_over(stores):
    stored(stores, "1", "telegram:7", "Hallo")
    [(event_id, _)] = stores.inbox.heads(("telegram",))
    lease = timedelta(minutes=2)
    assert stores.inbox.claim(event_id, T0 - lease, now=T0)
    later = T0 + timedelta(seconds=30)  # the claim is fresh: its worker runs
    assert not stores.inbox.claim(event_id, later - lease, now=later)
    later = T0 + timedelta(minutes=3)  # older than the lease: its worker stopped
    assert stores.inbox.claim(event_id, later - lease, now=later)
    assert stores.inbox.get(event_id).attempts == 2


def test_erasure_and_retention_remove_the_events(stores):
    stored(stores, "1", "telegram:7", "Hallo")
    stored(stores, "2", "telegram:8", "Hallo")
    [(first, _), _] = stores.inbox.heads(("telegram",))
    with stores.inbox.engine.begin() as c:
        stores.inbox.finish_in(c, first, "answered", T0)
    assert stores.inbox.delete_done_before(T0 + timedelta(days=1)) == 1
    assert stores.inbox.open_count() == 1  # an open one stays
    stores.inbox.forget("telegram:8")
    assert stores.inbox.open_count() == 0


class Bot:
    """Answers each message after `pause` seconds; remembers the order of its turns."""

    def __init__(self, pause: float = 0.0, failing: str = "") -> None:
        self.pause, self.failing = pause, failing
        self.turns: list[tuple[str, str]] = []
        self.running: set[str] = set()
        self.overlapped = False

    async def __call__(self, message: UserMessage) -> None:
        if message.sender_id in self.running:
            self.overlapped = True
        self.running.add(message.sender_id)
        try:
            self.turns.append((message.sender_id, message.text))
            await asyncio.sleep(self.pause)
            if message.text == self.failing:
                raise RuntimeError("the tracker store failed")
            await message.output_channel.send_response(message.sender_id,
                                                       {"text": f"Re: {message.text}"})  # fmt: skip
        finally:
            self.running.discard(message.sender_id)


def run_workers(workers: list[InboxWorker], stores: Stores, seconds: float = 20) -> None:
    async def main() -> None:
        tasks = [asyncio.create_task(w.run(0.02)) for w in workers]
        deadline = asyncio.get_running_loop().time() + seconds
        while stores.inbox.open_count() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def test_two_workers_answer_each_event_once_in_order_per_conversation(stores):
    bot = Bot(pause=0.05)
    texts = [f"Frage {n}" for n in range(6)]
    for n, text in enumerate(texts):
        for conversation in ("telegram:7", "telegram:8"):
            stored(stores, f"{conversation}-{n}", conversation, text)
    workers = [InboxWorker(lambda: stores, ("telegram",), bot, retry_pause=0.01)
               for _ in range(2)]  # fmt: skip
    run_workers(workers, stores)
    assert not bot.overlapped  # one turn per conversation at a time
    for conversation in ("telegram:7", "telegram:8"):
        assert [t for c, t in bot.turns if c == conversation] == texts
        queued = stores.handoffs.messages(conversation, 0, ("bot",))
        assert [m.text for m in queued] == [f"Re: {t}" for t in texts]
        assert all(m.handoff_id is None for m in queued)
        assert all(e["outcome"] == "answered" for e in stores.inbox.events(conversation))


def test_a_numbered_reply_becomes_the_choice_shown(stores):
    from conversations.rendering import Button

    stores.addresses.remember("telegram:7", "telegram", {"id": "7"})
    stores.addresses.set_menu("telegram:7", (Button("Ja", "/affirm"), Button("Nein", "/deny")))
    stored(stores, "1", "telegram:7", "2")
    bot = Bot()
    run_workers([InboxWorker(lambda: stores, ("telegram",), bot)], stores)
    assert bot.turns == [("telegram:7", "/deny")]


def test_a_failing_turn_is_tried_again_then_the_person_is_asked_to_send_again(stores):
    bot = Bot(failing="kaputt")
    stored(stores, "1", "telegram:7", "kaputt")
    stored(stores, "2", "telegram:7", "heil")
    run_workers([InboxWorker(lambda: stores, ("telegram",), bot, retry_pause=0.01)], stores)
    assert [t for _, t in bot.turns] == ["kaputt", "kaputt", "kaputt", "heil"]
    queued = stores.handoffs.messages("telegram:7", 0, ("bot",))
    assert [m.text for m in queued] == [SEND_AGAIN, "Re: heil"]
    outcomes = [e["outcome"] for e in stores.inbox.events("telegram:7")]
    assert outcomes == ["failed: RuntimeError", "answered"]
