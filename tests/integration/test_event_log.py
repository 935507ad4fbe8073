"""The conversation event log (insights/event_log.py) and the transcripts of Rasa's SQL
tracker store (conversations/sql_transcripts.py), on the local PostgreSQL and RabbitMQ.

Rasa's Pika broker loses what it publishes while RabbitMQ is unreachable (kept in one
process's memory at best); the log fills such gaps from the tracker store, which has
every event. Nothing of a text or a slot value goes into the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterator

import aio_pika
import pytest
from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from conversations.sql_transcripts import SqlTranscripts
from insights.event_log import SETTLED_SECONDS, EventLog, summary
from lotse.database import make_engine
from lotse.migrate import migrate, migrated_engine
from tests.integration.test_crm_store import postgres_database
from tests.support.private_services import rabbitmq_reachable
from tests.support.tcp_proxy import TcpProxy
from wiring.services import open_personal_stores

PERSONAL = "Anna Muster, anna@mueller-metallbau.example"


@pytest.fixture
def pg() -> Iterator[str]:
    with postgres_database() as url:
        migrate(url)
        yield url


def tracker_store(url: str, port: int | None = None) -> SQLTrackerStore:
    parsed = make_url(url)
    return SQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1",
                           port=port or parsed.port, db=parsed.database,
                           username=parsed.username, password=parsed.password)  # fmt: skip


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, [])
    tracker.update(ActionExecuted("action_listen", timestamp=1.0))
    intent = {"name": "faq_press_price", "confidence": 0.93}
    tracker.update(UserUttered(PERSONAL, intent, parse_data={"intent": intent}, timestamp=2.0,
                               input_channel="rest"))  # fmt: skip
    tracker.update(SlotSet("email", "anna@mueller-metallbau.example", timestamp=3.0))
    tracker.update(ActionExecuted("utter_faq_press_price", timestamp=4.0))
    tracker.update(BotUttered("Die P400 ab 140.000 EUR", timestamp=5.0))
    return tracker


def test_a_summary_keeps_kind_name_confidence_channel_and_no_text() -> None:
    user = {"sender_id": "web-1", **conversation("web-1").events[1].as_dict()}  # as published
    row = summary(user)
    assert row == {"conversation_id": "web-1", "type_name": "user", "at": 2.0,
                   "name": "faq_press_price", "confidence": 0.93, "channel": "rest"}  # fmt: skip
    slot = summary(conversation("web-1").events[2].as_dict(), "web-1")
    assert slot is not None and slot["name"] == "email" and PERSONAL not in json.dumps(slot)
    assert (
        summary({"event": "user"}) is None and summary({"sender_id": "x", "timestamp": 1}) is None
    )


@pytest.mark.parametrize("where", ["same database", "another database"])
def test_the_log_fills_from_the_tracker_store_once(pg: str, where: str) -> None:
    """In one database the rows are made inside PostgreSQL, across two in Python: the
    same rows either way."""
    store = tracker_store(pg)
    with contextlib.ExitStack() as stack:
        log_url = pg if where == "same database" else stack.enter_context(postgres_database())
        migrate(log_url)
        event_log = EventLog(migrated_engine(log_url))
        assert event_log._shares_database(store.engine) == (where == "same database")
        asyncio.run(store.save(conversation("web-1")))
        published = [{"sender_id": "web-1", **e.as_dict()} for e in conversation("web-1").events]
        event_log.record(published[:2])  # what the broker delivered
        assert event_log.fill_from_tracker(store.engine) == 5
        assert event_log.fill_from_tracker(store.engine) == 0  # the cursor moved on
        rows = event_log.events_of("web-1")
        assert [(r["type_name"], r["name"], r["confidence"], r["channel"]) for r in rows] == [
            ("action", "action_listen", None, None),
            ("user", "faq_press_price", 0.93, "rest"), ("slot", "email", None, None),
            ("action", "utter_faq_press_price", None, None), ("bot", "", None, None),
        ]  # fmt: skip
        assert "anna" not in json.dumps(rows) and "P400" not in json.dumps(rows)
        event_log.rename("web-1", "erased:1")
        assert event_log.events_of("web-1") == [] and len(event_log.events_of("erased:1")) == 5
        assert event_log.delete_before(3.5) == 3 and len(event_log.events_of("erased:1")) == 2
        event_log.engine.dispose()
    store.engine.dispose()


def test_the_cursor_passes_only_settled_events(pg: str) -> None:
    """A turn still open may commit rows with lower ids later: recent rows are added but
    read again next time, until they are older than SETTLED_SECONDS."""
    store = tracker_store(pg)
    event_log = EventLog(migrated_engine(pg))
    asyncio.run(store.save(conversation("web-1")))  # timestamps 1.0 to 5.0
    now = 4.0 + SETTLED_SECONDS
    assert event_log.fill_from_tracker(store.engine, now=now) == 5
    assert event_log.fill_from_tracker(store.engine, now=now) == 2  # 4.0 and 5.0 again
    assert len(event_log.events_of("web-1")) == 5  # added once
    assert event_log.fill_from_tracker(store.engine, now=now + 10) == 2
    assert event_log.fill_from_tracker(store.engine, now=now + 10) == 0
    store.engine.dispose()


def test_sql_transcripts_read_and_delete_rasas_events(pg: str) -> None:
    store = tracker_store(pg)
    texts = SqlTranscripts(make_engine(pg))
    assert "web-1" not in texts and list(texts) == []  # no table before Rasa ran
    asyncio.run(store.save(conversation("web-1")))
    asyncio.run(store.save(conversation("web-2")))
    assert sorted(texts) == ["web-1", "web-2"] and len(texts) == 2
    events = json.loads(texts["web-1"])["events"]
    assert [e["event"] for e in events] == ["action", "user", "slot", "action", "bot"]
    assert events[1]["text"] == PERSONAL
    del texts["web-1"]
    assert "web-1" not in texts and sorted(texts) == ["web-2"]
    with pytest.raises(KeyError):
        texts["web-1"]
    store.engine.dispose()


async def _queued(queue: str) -> list[dict]:
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        events = []
        while (message := await declared.get(fail=False, no_ack=True)) is not None:
            events.append(json.loads(message.body))
        await channel.queue_delete(queue)
        return events


def test_what_rasas_broker_loses_while_rabbitmq_is_down_the_log_still_gets(pg: str) -> None:
    if not rabbitmq_reachable():
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    queue = f"lotse_test_{uuid.uuid4().hex[:8]}"
    store = tracker_store(pg)
    sender = f"web-{uuid.uuid4().hex[:6]}"

    async def publish_with_rabbitmq_cut() -> None:
        with TcpProxy("127.0.0.1", 5672) as rabbit:
            broker = PikaEventBroker("127.0.0.1", "guest", "guest", port=rabbit.port,
                                     queues=[queue], exchange_name=f"{queue}_exchange")  # fmt: skip
            await broker.connect()
            rabbit.cut()
            for event in conversation(sender).events:
                broker.publish({"sender_id": sender, **event.as_dict()})
            await asyncio.sleep(1)
            await store.save(conversation(sender))  # the tracker store has them all
            broker._connection = None  # noqa: SLF001 - the process ends: its buffer with it
            del broker

    asyncio.run(publish_with_rabbitmq_cut())
    received = asyncio.run(_queued(queue))
    assert [e for e in received if e.get("sender_id") == sender] == []  # the gap
    event_log = EventLog(migrated_engine(pg))
    event_log.record(received)
    event_log.fill_from_tracker(store.engine)
    assert len(event_log.events_of(sender)) == len(conversation(sender).events)
    store.engine.dispose()


def test_the_privacy_commands_read_transcripts_from_the_sql_tracker_store(pg: str) -> None:
    from privacy.export import transcript

    store = tracker_store(pg)
    asyncio.run(store.save(conversation("web-1")))
    stores = open_personal_stores(pg, None, tracker_url=pg)
    assert isinstance(stores.texts, SqlTranscripts)
    said = transcript(stores.texts, "web-1")
    assert [(line["from"], line["text"]) for line in said] == [
        ("person", PERSONAL), ("bot", "Die P400 ab 140.000 EUR")]  # fmt: skip
    stores.engine.dispose()
    store.engine.dispose()


def test_odd_events_are_summarised_or_skipped_never_raised() -> None:
    for odd in ({"sender_id": "w", "event": "user", "timestamp": 1, "parse_data": []},
                {"sender_id": "w", "event": "user", "timestamp": 1, "parse_data": {"intent": 5}},
                {"sender_id": 3, "event": "user", "timestamp": 1}, {}):  # fmt: skip
        row = summary(odd)
        assert row is None or (row["name"] == "" and row["confidence"] is None)


def test_events_of_a_conversation_erased_a_moment_ago_are_dropped(pg: str) -> None:
    """Still queued in RabbitMQ when the erasure renamed the log's rows: not written
    back under the old id (a WhatsApp id is a phone number)."""
    event_log = EventLog(migrated_engine(pg))
    whatsapp = "twilio:whatsapp:+4915112345678"
    event_log.erased.mark([whatsapp])
    queued = [{"sender_id": sender, **e.as_dict()}
              for sender in (whatsapp, "web-2") for e in conversation(sender).events]  # fmt: skip
    assert event_log.record(queued) == 10
    assert event_log.events_of(whatsapp) == [] and len(event_log.events_of("web-2")) == 5
    assert event_log.erased.recent([whatsapp], now=time.time() + 3600) == set()  # a while only
