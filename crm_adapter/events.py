"""The delivery outbox for external CRMs (`crm_events`) and its worker (issue 5, in progress).

`enqueue` adds an event inside the caller's transaction (so a local write and its
event commit together; the store's writes do not call it yet). `EventOutbox.claim`
hands out, per contact, only the oldest pending event, and only if no other event of
that contact is leased: events of one contact arrive in order, different contacts in
parallel. Claiming leases the rows in the same transaction (PostgreSQL: FOR UPDATE SKIP
LOCKED; SQLite: BEGIN IMMEDIATE), so several workers never send an event twice while
its lease runs. A worker that dies loses its lease when it runs out; the event is then
sent again with the same `event_id`, the idempotency key receivers deduplicate on.

After `max_attempts` failed tries, or at once on a permanent error, an event is dead:
the contact's later events wait behind it until it is revived (`revive`) or discarded
(`discard`), so order is never broken silently. Errors: `CrmError` naming the
operation and the error class only. Personal data: payloads; nothing here logs them.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

from sqlalchemy import exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from crm_adapter.port import CrmError
from crm_adapter.retry import backoff
from crm_adapter.store.engine import writer
from crm_adapter.store.models import CrmEventRow, as_utc
from crm_adapter.delivery import CrmEvent, PermanentDeliveryError, RetryableDeliveryError

log = logging.getLogger(__name__)
T = TypeVar("T")
ERROR_LENGTH = 200
EVENTS = CrmEventRow.__table__
_PENDING = (EVENTS.c.delivered_at.is_(None), EVENTS.c.dead_at.is_(None))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def enqueue(
    connection: Connection, lead_id: int, kind: str, payload: Mapping[str, Any], now: datetime
) -> str:
    """Adds one event in the caller's transaction; returns its stable id."""
    event_id = uuid.uuid4().hex
    connection.execute(
        insert(EVENTS),
        {
            "event_id": event_id,
            "contact_id": lead_id,
            "kind": kind[:64],
            "payload": dict(payload),
            "occurred_at": as_utc(now),
            "attempts": 0,
            "next_attempt_at": as_utc(now),
        },
    )
    return event_id


@dataclass(frozen=True)
class ClaimedEvent:
    row_id: int
    event: CrmEvent
    attempts: int


class EventOutbox:
    def __init__(self, engine: Engine, lease: timedelta = timedelta(minutes=2)) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self.lease = lease

    def _run(self, operation: str, work: Callable[[Connection], T], write: bool = True) -> T:
        try:
            with (self._writer if write else self._engine).begin() as connection:
                return work(connection)
        except SQLAlchemyError as err:
            raise CrmError(f"CRM events: {operation} failed ({type(err).__name__})") from None

    def add(self, lead_id: int, kind: str, payload: Mapping[str, Any], now: datetime) -> str:
        return self._run("adding an event", lambda c: enqueue(c, lead_id, kind, payload, now))

    def claim(self, now: datetime, limit: int = 20) -> list[ClaimedEvent]:
        """The head event of up to `limit` contacts, due and not leased, leased now."""
        now = as_utc(now)
        earlier = aliased(CrmEventRow)
        blocked = exists().where(
            earlier.contact_id == EVENTS.c.contact_id,
            earlier.id < EVENTS.c.id,
            earlier.delivered_at.is_(None),  # pending or dead: both hold the later ones back
        )
        query = (
            select(EVENTS)
            .where(
                *_PENDING,
                ~blocked,
                EVENTS.c.next_attempt_at <= now,
                or_(EVENTS.c.locked_until.is_(None), EVENTS.c.locked_until <= now),
            )
            .order_by(EVENTS.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

        def work(c: Connection) -> list[ClaimedEvent]:
            rows = c.execute(query).all()
            if rows:
                ids = [row.id for row in rows]
                c.execute(update(EVENTS).where(EVENTS.c.id.in_(ids)).values(
                    locked_until=now + self.lease))  # fmt: skip
            return [
                ClaimedEvent(
                    row.id,
                    CrmEvent(
                        row.event_id,
                        row.kind,
                        row.contact_id,
                        row.payload,
                        row.occurred_at.isoformat(),
                    ),
                    row.attempts,
                )  # fmt: skip
                for row in rows
            ]

        return self._run("claiming events", work)

    def delivered(self, row_id: int, now: datetime) -> None:
        self._finish(row_id, "marking an event delivered", delivered_at=as_utc(now))

    def retry(self, row_id: int, at: datetime, error: str) -> None:
        self._finish(row_id, "scheduling a retry", attempts=EVENTS.c.attempts + 1,
                     next_attempt_at=as_utc(at), last_error=error[:ERROR_LENGTH])  # fmt: skip

    def dead(self, row_id: int, now: datetime, error: str) -> None:
        self._finish(row_id, "marking an event dead", attempts=EVENTS.c.attempts + 1,
                     dead_at=as_utc(now), last_error=error[:ERROR_LENGTH])  # fmt: skip

    def _finish(self, row_id: int, operation: str, **values: object) -> None:
        statement = update(EVENTS).where(EVENTS.c.id == row_id, *_PENDING)
        self._run(operation, lambda c: c.execute(statement.values(locked_until=None, **values)))

    def dead_letters(self) -> list[dict[str, Any]]:
        query = select(EVENTS.c.id, EVENTS.c.event_id, EVENTS.c.contact_id, EVENTS.c.kind,
                       EVENTS.c.attempts, EVENTS.c.dead_at, EVENTS.c.last_error).where(
            EVENTS.c.dead_at.is_not(None), EVENTS.c.delivered_at.is_(None)
        ).order_by(EVENTS.c.id)  # fmt: skip

        def work(c: Connection) -> list[dict[str, Any]]:
            return [dict(row._mapping) for row in c.execute(query)]

        return self._run("listing dead letters", work, write=False)

    def revive(self, row_id: int, now: datetime) -> bool:
        """A dead event is tried again (from zero attempts); False if it was not dead."""
        statement = (
            update(EVENTS)
            .where(
                EVENTS.c.id == row_id,
                EVENTS.c.dead_at.is_not(None),
                EVENTS.c.delivered_at.is_(None),
            )
            .values(dead_at=None, attempts=0, next_attempt_at=as_utc(now), locked_until=None)
        )
        return self._run("reviving an event", lambda c: c.execute(statement).rowcount == 1)

    def discard(self, row_id: int, now: datetime) -> bool:
        """A dead event is given up for good (marked delivered, `last_error` "discarded"),
        which lets the contact's later events go; False if it was not dead."""
        statement = (
            update(EVENTS)
            .where(
                EVENTS.c.id == row_id,
                EVENTS.c.dead_at.is_not(None),
                EVENTS.c.delivered_at.is_(None),
            )
            .values(delivered_at=as_utc(now), last_error="discarded")
        )
        return self._run("discarding an event", lambda c: c.execute(statement).rowcount == 1)

    def pending_count(self) -> int:
        query = select(func.count()).select_from(EVENTS).where(*_PENDING)
        return self._run("counting events", lambda c: c.execute(query).scalar_one(), write=False)


class Connector(Protocol):
    def deliver(self, event: CrmEvent) -> None:
        """Raises RetryableDeliveryError / PermanentDeliveryError (CrmDeliveryError)."""


class DeliveryWorker:
    """Takes due events and delivers them through `connector`, one batch per call."""

    def __init__(
        self, outbox: EventOutbox, connector: Connector, clock: Callable[[], datetime] = utc_now,
        max_attempts: int = 10, rng: Callable[[], float] = random.random,
    ) -> None:  # fmt: skip
        self.outbox = outbox
        self.connector = connector
        self.clock = clock
        self.max_attempts = max_attempts
        self.rng = rng

    def run_once(self, limit: int = 20) -> int:
        """Delivers what is due; returns how many events were delivered."""
        delivered = 0
        for claimed in self.outbox.claim(self.clock(), limit):
            delivered += self._deliver(claimed)
        return delivered

    def _deliver(self, claimed: ClaimedEvent) -> int:
        try:
            self.connector.deliver(claimed.event)
        except RetryableDeliveryError as error:
            tries = claimed.attempts + 1
            if tries >= self.max_attempts:
                self.outbox.dead(claimed.row_id, self.clock(), type(error).__name__)
            else:
                wait = backoff(claimed.attempts, error.retry_after, rng=self.rng)
                at = self.clock() + timedelta(seconds=max(1.0, wait))
                self.outbox.retry(claimed.row_id, at, type(error).__name__)
            log.info("CRM event %s not delivered (%s)", claimed.row_id, type(error).__name__)
            return 0
        except PermanentDeliveryError as error:
            self.outbox.dead(claimed.row_id, self.clock(), type(error).__name__)
            log.warning("CRM event %s is a dead letter (%s)", claimed.row_id, type(error).__name__)
            return 0
        self.outbox.delivered(claimed.row_id, self.clock())
        return 1
