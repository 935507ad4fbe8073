"""The notification outbox (`crm_outbox`): what `LocalCrm.add_task` and `book_meeting`
wrote in their transaction, taken from here by a dispatcher and marked when done.

A row is pending until it is `sent` or `failed`. `due` hands out pending rows whose
time has come and leases them (`locked_until`) in the same transaction, so two
dispatchers (threads or processes) never take the same row: on PostgreSQL with
SELECT ... FOR UPDATE SKIP LOCKED, on SQLite because BEGIN IMMEDIATE lets one writer
in at a time. A dispatcher that dies holding a lease loses it when the lease runs
out; the row is then due again (and may be sent twice: delivery is at least once).

Every method is one transaction; `sent`, `retry` and `failed` are idempotent for an
id (an unknown id changes nothing). Errors: `CrmError` for any database failure,
naming the operation and the error class only; ValueError for a naive datetime.

Personal data: `due` returns the notifications (recipients, texts, invitations).
`last_error` must be an error kind (a class name, "not configured"), never a message
quoting personal data; it is cut to 200 characters. Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from crm_adapter.port import CrmError, Notification
from crm_adapter.store.mapping import notification_of
from crm_adapter.store.models import OutboxRow, as_utc
from lotse.database import writer

T = TypeVar("T")
ERROR_LENGTH = 200
_PENDING = (OutboxRow.sent_at.is_(None), OutboxRow.failed_at.is_(None))


@dataclass(frozen=True)
class OutboxItem:
    """A leased notification; `attempts` is how many tries of it have failed so far."""

    id: int
    notification: Notification
    attempts: int


class Outbox:
    """The outbox of the CRM store on `engine` (migrated); leases last `lease`."""

    def __init__(self, engine: Engine, lease: timedelta = timedelta(seconds=60)) -> None:
        if lease <= timedelta(0):
            raise ValueError("an outbox lease must be positive")
        self._engine = engine
        self._writer = writer(engine)
        self.lease = lease

    def _run(self, operation: str, work: Callable[[Connection], T], *, write: bool = True) -> T:
        try:
            with (self._writer if write else self._engine).begin() as connection:
                return work(connection)
        except SQLAlchemyError as err:
            raise CrmError(f"outbox: {operation} failed ({type(err).__name__})") from None

    def due(self, now: datetime, limit: int = 20) -> list[OutboxItem]:
        """Up to `limit` pending rows due at `now` and not leased, oldest first, leased
        to the caller until `now + lease`."""
        now = as_utc(now)
        query = (
            select(OutboxRow)
            .where(
                *_PENDING,
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.locked_until.is_(None), OutboxRow.locked_until <= now),
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # SQLite renders no FOR UPDATE
        )

        def work(c: Connection) -> list[OutboxItem]:
            rows = c.execute(query).all()
            if rows:
                ids = [row.id for row in rows]
                lease = update(OutboxRow).where(OutboxRow.id.in_(ids))
                c.execute(lease.values(locked_until=now + self.lease))
            return [OutboxItem(row.id, notification_of(row), row.attempts) for row in rows]

        return self._run("taking due notifications", work)

    def sent(self, item_id: int, now: datetime) -> None:
        """Marks it sent; it is never handed out again."""
        self._finish(item_id, "marking a notification sent", sent_at=as_utc(now))

    def retry(self, item_id: int, at: datetime, error: str) -> None:
        """Counts a failed attempt, and makes it due again at `at` (lease released)."""
        self._finish(
            item_id,
            "scheduling a retry",
            attempts=OutboxRow.attempts + 1,
            next_attempt_at=as_utc(at),
            last_error=error[:ERROR_LENGTH],
        )

    def failed(self, item_id: int, now: datetime, error: str) -> None:
        """Counts a failed attempt and gives up on it; it is never handed out again."""
        self._finish(
            item_id,
            "marking a notification failed",
            attempts=OutboxRow.attempts + 1,
            failed_at=as_utc(now),
            last_error=error[:ERROR_LENGTH],
        )

    def _finish(self, item_id: int, operation: str, **values: object) -> None:
        change = update(OutboxRow).where(OutboxRow.id == item_id, *_PENDING)
        statement = change.values(locked_until=None, **values)
        self._run(operation, lambda c: c.execute(statement))

    def pending_count(self) -> int:
        """Rows neither sent nor failed, leased or not, due or not."""
        query = select(func.count()).select_from(OutboxRow).where(*_PENDING)
        return self._run(
            "counting notifications", lambda c: c.execute(query).scalar_one(), write=False
        )
