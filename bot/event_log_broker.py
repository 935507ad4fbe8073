"""Rasa's event broker of the embedded profile: conversation events into the event log.

The embedded profile has no RabbitMQ; this broker (endpoints.yml `event_broker`) takes
the events Rasa publishes after each saved turn and writes them to the conversation
event log (`insights/event_log.py`, in the CRM database, LOTSE_DATABASE_URL) from a
background thread, in batches, so a turn never waits for the write. The event log
keeps no text a visitor typed.

A failed write is retried (every RETRY_SECONDS) with the same events, in order; while
the database is away, up to MAX_PENDING events wait in memory, beyond that the oldest
are dropped and counted in the log (an outage of hours). Events still waiting when
the process is killed are lost; Rasa's `close()` at a normal stop writes them first.
Events of a conversation erased while they waited are dropped by the event log when
they are written, however late (`conversations/erased.py`).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from asyncio import AbstractEventLoop
from collections import deque
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from insights.event_log import EventLog
from lotse.settings import load_settings
from wiring.services import services_for

BATCH = 500
FLUSH_SECONDS = 2.0
"""Events are collected this long before a write: each write also recomputes the
summaries of the conversations it touches, so fewer, larger writes cost less CPU."""
RETRY_SECONDS = 1.0
MAX_PENDING = 100_000
log = logging.getLogger(__name__)


class EventLogBroker(EventBroker):
    def __init__(self, event_log: EventLog) -> None:
        self.event_log = event_log
        self.incoming: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self.pending: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="event-log-broker", daemon=True)
        self.thread.start()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig | None, event_loop: AbstractEventLoop | None = None
    ) -> EventLogBroker:
        url = (broker_config.url if broker_config else None) or load_settings().database_url
        return cls(services_for(url).event_log)

    def publish(self, event: dict[str, Any]) -> None:
        self.incoming.put(event)

    def is_ready(self) -> bool:
        return self.thread.is_alive()

    async def close(self) -> None:
        self.incoming.put(None)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stopped.is_set():
            self._take(block=not self.pending)
            if self.pending and not self._write():
                time.sleep(RETRY_SECONDS)

    def _take(self, block: bool) -> None:
        """Moves waiting events to `pending`: blocks for the first when told to, then
        collects for up to FLUSH_SECONDS or a batch; with a batch already pending (the
        database away), takes whatever waits at once, so at most MAX_PENDING wait."""
        deadline = time.monotonic() + FLUSH_SECONDS
        while not self.stopped.is_set():
            if len(self.pending) >= BATCH:
                timeout: float | None = 0.0
            else:
                timeout = None if block else max(0.0, deadline - time.monotonic())
            try:
                event = self.incoming.get(timeout=timeout)
            except queue.Empty:
                return
            block = False
            if event is None:  # close(): write what waits, then stop
                while self.pending and self._write():
                    pass
                self.stopped.set()
                return
            self.pending.append(event)
            if len(self.pending) > MAX_PENDING:
                self.pending.popleft()
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.error("event log: database away, %d events dropped", self.dropped)

    def _write(self) -> bool:
        """Writes the first batch of `pending`; False if the database is away (retry)."""
        batch = list(itertools.islice(self.pending, BATCH))
        try:
            self.event_log.record(batch)
            handled = len(batch)
        except (DataError, IntegrityError):
            handled = self._write_one_by_one(batch)
        except (SQLAlchemyError, OSError) as error:
            log.warning("event log: writing %d events failed (%s); retrying",
                        len(batch), type(error).__name__)  # fmt: skip
            return False
        for _ in range(handled):
            self.pending.popleft()
        return handled == len(batch)

    def _write_one_by_one(self, batch: list[dict[str, Any]]) -> int:
        """A batch the database refuses (not an outage): every event it takes, and a
        count of the ones it refuses, so one bad event cannot stall the log. Returns
        how many were dealt with before the database went away (all, normally)."""
        refused = 0
        for done, event in enumerate(batch):
            try:
                self.event_log.record([event])
            except (DataError, IntegrityError):
                refused += 1
            except (SQLAlchemyError, OSError) as error:
                log.warning("event log: writing failed (%s); retrying", type(error).__name__)
                return done
        log.error("event log: %d events refused by the database, left out", refused)
        return len(batch)
