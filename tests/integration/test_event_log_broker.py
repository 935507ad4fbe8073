"""The embedded profile's event broker (bot/event_log_broker.py): Rasa's events into the
event log from a background thread, in order, retried while the database is away, a
refused event left out alone, and what waits written at `close()`.

A SQLite event log in the test's folder; the failing databases are EventLog subclasses
that raise the errors SQLAlchemy raises. Tests poll with a deadline."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from bot import event_log_broker
from bot.event_log_broker import EventLogBroker
from insights.event_log import EventLog, events_table
from lotse.migrate import migrated_engine

DEADLINE_SECONDS = 10.0


def wait_until(condition: Callable[[], bool], seconds: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)


def event(sender: str, at: float, name: str) -> dict[str, Any]:
    return {"sender_id": sender, "event": "action", "timestamp": at, "name": name}


def written(log: EventLog) -> list[tuple[str, str]]:
    """(conversation, name) of every row, in the order the rows were written."""
    query = select(events_table.c.conversation_id, events_table.c.name).order_by(events_table.c.id)
    with log.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


class FlakyLog(EventLog):
    """An event log whose database fails the first `failures` writes, and refuses (with
    `refusal`) every write holding an event of the conversation `refused`."""

    def __init__(self, url: str, failures: int = 0, refusal: type[Exception] = IntegrityError,
                 refused: str | None = None) -> None:  # fmt: skip
        super().__init__(migrated_engine(url), responses={})
        self.failures = failures
        self.refusal = refusal
        self.refused = refused
        self.calls: list[list[str]] = []
        self.lock = threading.Lock()

    def record(self, events: Any) -> int:
        batch = list(events)
        with self.lock:
            self.calls.append([e["name"] for e in batch])
            if self.failures > 0:
                self.failures -= 1
                raise OperationalError("INSERT INTO conversation_events", {}, OSError("gone"))
        if any(e["sender_id"] == self.refused for e in batch):
            raise self.refusal("INSERT INTO conversation_events", {}, ValueError("refused"))
        return super().record(batch)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_log_broker, "RETRY_SECONDS", 0.01)
    monkeypatch.setattr(event_log_broker, "FLUSH_SECONDS", 0.05)


@pytest.fixture
def brokers() -> Iterator[list[EventLogBroker]]:
    """Brokers to close at the end (their thread stops, their log's engine goes)."""
    made: list[EventLogBroker] = []
    yield made
    for broker in made:
        asyncio.run(broker.close())
        broker.event_log.engine.dispose()


def started(brokers: list[EventLogBroker], log: EventLog) -> EventLogBroker:
    broker = EventLogBroker(log)
    brokers.append(broker)
    return broker


def test_published_events_reach_the_log_in_order(
    url: str, quick: None, brokers: list[EventLogBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_log_broker, "BATCH", 3)  # several batches
    log = EventLog(migrated_engine(url), responses={})
    broker = started(brokers, log)
    assert broker.is_ready()
    # Times run backwards: the rows' ids show the order of writing, not of time.
    sent = [event(f"web-{i % 2}", 100.0 - i, f"action_{i}") for i in range(10)]
    for published in sent:
        broker.publish({**published, "text": "Anna Muster"})
    wait_until(lambda: len(written(log)) == 10)
    assert written(log) == [(e["sender_id"], e["name"]) for e in sent]
    assert "Anna" not in repr(log.events_of("web-0"))


def test_close_writes_what_waits(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_log_broker, "FLUSH_SECONDS", 60.0)  # no write of its own
    log = EventLog(migrated_engine(url), responses={})
    broker = EventLogBroker(log)
    for i in range(5):
        broker.publish(event("web-1", float(i), f"action_{i}"))
    assert written(log) == []  # still collecting its batch
    asyncio.run(broker.close())
    assert written(log) == [("web-1", f"action_{i}") for i in range(5)]
    assert not broker.thread.is_alive() and not broker.is_ready()
    log.engine.dispose()


def test_a_database_away_is_retried_with_the_same_events_and_nothing_is_lost(
    url: str, quick: None, brokers: list[EventLogBroker]
) -> None:
    log = FlakyLog(url, failures=2)
    broker = started(brokers, log)
    for i in range(5):
        broker.publish(event("web-1", float(i), f"action_{i}"))
    wait_until(lambda: len(written(log)) == 5)
    assert written(log) == [("web-1", f"action_{i}") for i in range(5)]
    names = [f"action_{i}" for i in range(5)]
    assert log.calls == [names, names, names]  # twice failed, then written
    assert broker.dropped == 0


@pytest.mark.parametrize("refusal", [IntegrityError, DataError])
def test_an_event_the_database_refuses_is_left_out_alone(
    url: str, quick: None, brokers: list[EventLogBroker], refusal: type[Exception]
) -> None:
    log = FlakyLog(url, refusal=refusal, refused="bad")
    broker = started(brokers, log)
    batch = [event("web-1", 1.0, "first"), event("bad", 2.0, "refused"),
             event("web-1", 3.0, "last")]  # fmt: skip
    for published in batch:
        broker.publish(published)
    wait_until(lambda: len(written(log)) == 2)
    assert written(log) == [("web-1", "first"), ("web-1", "last")]
    assert log.calls == [["first", "refused", "last"], ["first"], ["refused"], ["last"]]
    broker.publish(event("web-2", 4.0, "after"))  # the log goes on
    wait_until(lambda: len(written(log)) == 3)
    assert written(log)[-1] == ("web-2", "after")


class AwayWhileSorting(FlakyLog):
    """Refuses the batch with a bad event, then is away for the first event written
    one by one (an outage that starts while the broker sorts out the bad event)."""

    def record(self, events: Any) -> int:
        batch = list(events)
        with self.lock:
            one_by_one = len(self.calls) == 1
        if one_by_one:
            self.calls.append([e["name"] for e in batch])
            raise OperationalError("INSERT INTO conversation_events", {}, OSError("gone"))
        return super().record(batch)


def test_an_outage_while_writing_one_by_one_is_retried(
    url: str, quick: None, brokers: list[EventLogBroker]
) -> None:
    log = AwayWhileSorting(url, refused="bad")
    broker = started(brokers, log)
    for published in (event("web-1", 1.0, "first"), event("bad", 2.0, "refused"),
                      event("web-1", 3.0, "last")):  # fmt: skip
        broker.publish(published)
    wait_until(lambda: len(log.calls) >= 2)
    broker.publish(event("web-2", 4.0, "after"))
    wait_until(lambda: len(written(log)) == 3 or not broker.thread.is_alive())
    assert written(log) == [("web-1", "first"), ("web-1", "last"), ("web-2", "after")]


class Away(FlakyLog):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.away = True

    def record(self, events: Any) -> int:
        with self.lock:
            self.calls.append([])
            if self.away:
                raise OperationalError("INSERT INTO conversation_events", {}, OSError("gone"))
        return EventLog.record(self, events)


def test_while_the_database_is_away_at_most_max_pending_events_wait(
    url: str, quick: None, brokers: list[EventLogBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_log_broker, "BATCH", 5)
    monkeypatch.setattr(event_log_broker, "MAX_PENDING", 20)  # as in production: > BATCH
    log = Away(url)
    broker = started(brokers, log)
    for i in range(100):
        broker.publish(event("web-1", float(i), f"action_{i}"))
    wait_until(lambda: len(log.calls) >= 3)  # all published before the first write
    try:
        waiting = len(broker.pending) + broker.incoming.qsize()
        assert (waiting, broker.dropped) == (20, 80)
    finally:
        with log.lock:
            log.away = False  # so that close() can write what waits and stop


def from_config(**config: Any) -> EventLogBroker:
    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig.from_dict({"type": "bot.event_log_broker.EventLogBroker", **config})
    return asyncio.run(EventLogBroker.from_endpoint_config(endpoint))


def test_the_broker_of_endpoints_yml_writes_to_the_lotse_database(
    brokers: list[EventLogBroker], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lotse = f"sqlite:///{tmp_path / 'lotse.db'}"
    monkeypatch.setenv("LOTSE_DATABASE_URL", lotse)
    broker = from_config()
    brokers.append(broker)
    assert broker.is_ready() and str(broker.event_log.engine.url) == lotse
    broker.publish(event("web-1", 1.0, "action_listen"))
    wait_until(lambda: written(broker.event_log) == [("web-1", "action_listen")])


def test_an_url_in_endpoints_yml_names_the_database(
    url: str, brokers: list[EventLogBroker]
) -> None:
    broker = from_config(url=url)
    brokers.append(broker)
    assert str(broker.event_log.engine.url) == url
