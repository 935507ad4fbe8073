"""Issue 18: conversation events that come after an erasure, however late, do not bring
the erased conversation back into the event log (a WhatsApp conversation's id is the
person's phone number).

An erasure marks its conversations (`conversations/erased.py`) and renames their
rows in the event log. Events published before it may wait in RabbitMQ (the scaled
profile's consumer, `bot/event_consumer.py`, down or behind) or in the embedded
broker's memory (`bot/event_log_broker.py`, database away) for longer than the
marks' window: they are dropped whenever they arrive. Events the conversation has
after the window (the person writes again, a new conversation) are kept, and after
the window nothing that could name the conversation stays in the marks' table.

The erasure's steps on the event log are run directly (mark, rename), at a moment
three windows ago; RabbitMQ is the machine's (127.0.0.1:5672, guest), each test with
a queue of its own."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from sqlalchemy import select

from bot import event_log_broker
from bot.event_consumer import Consumer
from bot.event_log_broker import EventLogBroker
from conversations.erased import WINDOW_SECONDS, key_of, marks
from crm_adapter.store.erasure import erased_id
from insights.event_log import EventLog
from lotse.migrate import migrated_engine
from tests.support.private_services import delete_queue, rabbitmq_reachable

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
WHATSAPP = "twilio:whatsapp:+4915124681357"
OTHER = "web-5e0c11"
DEADLINE_SECONDS = 20.0


def event(sender: str, at: float, name: str) -> dict[str, Any]:
    return {"sender_id": sender, "event": "action", "timestamp": at, "name": name}


def erase(log: EventLog, conversation_id: str, at: float) -> str:
    """What `DataErasure.erase_leads` does to the event log, at the moment `at`."""
    log.erased.mark([conversation_id], now=at)
    new = erased_id()
    log.rename(conversation_id, new)
    return new


def names(log: EventLog, conversation_id: str) -> list[str]:
    return [row["name"] for row in log.events_of(conversation_id)]


def wait_until(condition: Callable[[], bool], seconds: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.05)


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    made = EventLog(migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}"), responses={})
    yield made
    made.engine.dispose()


def test_events_queued_in_rabbitmq_before_an_erasure_are_dropped_long_after_it(
    log: EventLog,
) -> None:
    if not rabbitmq_reachable():
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    erased_at = time.time() - 3 * WINDOW_SECONDS
    log.record([event(WHATSAPP, erased_at - 120, "action_listen")])
    renamed = erase(log, WHATSAPP, erased_at)
    now = time.time()
    queued = [
        event(WHATSAPP, erased_at - 60, "utter_greet"),  # before the erasure
        event(OTHER, erased_at - 60, "utter_greet"),
        event(WHATSAPP, now, "action_restart"),
    ]  # the person writes again, anew
    queue = f"lotse_test_{uuid.uuid4().hex[:8]}"

    async def consume() -> None:
        connection = await aio_pika.connect(AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(queue, durable=True)
            for queued_event in queued:
                await channel.default_exchange.publish(
                    aio_pika.Message(json.dumps(queued_event).encode()), routing_key=queue
                )
        consumer = Consumer(log, AMQP, queue, tracker_url=None)
        running = asyncio.create_task(consumer.run())
        try:
            deadline = time.monotonic() + DEADLINE_SECONDS
            while names(log, OTHER) != ["utter_greet"] or len(names(log, WHATSAPP)) < 1:
                assert time.monotonic() < deadline, "not consumed within the deadline"
                await asyncio.sleep(0.1)
        finally:
            consumer.stopping.set()
            await asyncio.wait_for(running, DEADLINE_SECONDS)

    try:
        asyncio.run(consume())
    finally:
        delete_queue(queue)
    assert names(log, WHATSAPP) == ["action_restart"]  # only what came after the window
    assert names(log, renamed) == ["action_listen"]


def test_events_waiting_in_the_embedded_broker_are_dropped_long_after_the_erasure(
    log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_log_broker, "FLUSH_SECONDS", 0.05)
    erased_at = time.time() - 3 * WINDOW_SECONDS
    erase(log, WHATSAPP, erased_at)
    broker = EventLogBroker(log)
    try:
        broker.publish(event(WHATSAPP, erased_at - 5, "utter_greet"))
        broker.publish(event(WHATSAPP, erased_at + WINDOW_SECONDS / 2, "utter_bye"))
        broker.publish(event(OTHER, erased_at - 5, "utter_greet"))
        wait_until(lambda: names(log, OTHER) == ["utter_greet"])
    finally:
        asyncio.run(broker.close())
    assert names(log, WHATSAPP) == []


def test_after_the_window_a_mark_keeps_nothing_that_names_the_conversation(
    log: EventLog,
) -> None:
    erased_at = time.time() - 3 * WINDOW_SECONDS
    erase(log, WHATSAPP, erased_at)
    log.erased.mark([OTHER])  # a later erasure tidies the marks up
    with log.engine.connect() as connection:
        keys = list(connection.execute(select(marks.c.key)).scalars())
    assert key_of(WHATSAPP) not in keys and key_of(OTHER) in keys
    assert not any(len(key) > 8 and key_of(WHATSAPP).startswith(key) for key in keys)
    log.record([event(WHATSAPP, erased_at - 5, "utter_greet")])  # still dropped
    assert names(log, WHATSAPP) == []
    assert log.erased.recent([WHATSAPP]) == set()  # the tracker store keeps it again


def test_the_fill_from_rasas_sql_tracker_store_does_not_bring_it_back_either() -> None:
    """PostgreSQL, the event log and Rasa's `events` in one database (the fill runs
    inside PostgreSQL): events the tracker store still had from before the erasure are
    not added, whenever the fill reads them."""
    from tests.integration.test_crm_store import postgres_database
    from tests.integration.test_event_log import conversation, tracker_store

    with postgres_database() as url:
        log = EventLog(migrated_engine(url), responses={})
        store = tracker_store(url)
        erased_at = time.time() - 3 * WINDOW_SECONDS
        erase(log, WHATSAPP, erased_at)
        log.erased.mark([OTHER + "-x"])  # the mark is a tombstone by now
        for sender in (WHATSAPP, OTHER):
            asyncio.run(store.save(conversation(sender)))  # events of long ago (1.0 to 5.0)
        assert log._shares_database(store.engine)  # noqa: SLF001 - the in-database path
        log.fill_from_tracker(store.engine)
        assert names(log, WHATSAPP) == [] and len(names(log, OTHER)) == 5
        store.engine.dispose()
        log.engine.dispose()
