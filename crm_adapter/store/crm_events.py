"""The one outbox (`crm_events`): changes for the external CRMs (issue 5) and the
notifications to send (mails, Slack and Teams messages: connector NOTIFY, kind
NOTIFICATION), both taken by `crm_adapter.delivery_worker.DeliveryWorker` (the latter
through `handoff.dispatch.NotificationConnector`).

`enqueue` adds an event, one row per configured connector, inside the caller's
transaction (so a local write and its events commit together: `LocalCrm` and
`HandoffStore` call it). `EventOutbox.claim` hands out, per contact and connector, only
the oldest pending event, and only if no other event of that contact is leased: events
of one contact arrive in order, different contacts in parallel. An outbox made with
`ordered=False` (the notifications: a mail that cannot go must not hold back the next)
hands out every due event. Claiming leases the
rows in the same transaction (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN
IMMEDIATE), so several workers never send an event twice while its lease runs. Each
claim has its own token (`lease`): only the claim holding an event may mark it
delivered, retry it or declare it dead, so a worker whose lease ran out (a slow CRM)
cannot release a contact's next event while another worker is still sending this one;
a worker does not start sending an event with less than a quarter of its lease left.
A worker that dies loses its lease when it runs out; the event is then sent again with
the same `event_id`, on which the connectors are idempotent.

After `max_attempts` failed tries, or at once on a permanent error, an event is dead:
the contact's later events wait behind it until it is revived (`revive`) or discarded
(`discard`), so order is never broken silently. An auth error (the CRM refuses the
credentials) is retried every AUTH_RETRY without using up attempts: every event would
fail the same way until the config is fixed. `last_error` keeps the error's kind and
the connector's message (operation and HTTP status, never personal data).

`delivered` stores the contact's `Link` (its id at the CRM and the values written) in
the transaction that marks the event. `erase` (consent withdrawn) replaces the payloads
of contacts' events with ERASED and forgets the written values (also those an event in
flight at that moment brings back); an erased event still pending is marked delivered
when its turn comes, without being sent. `carry_pending` gives the pending events of
a contact merged into another to that other contact, so none is lost.

Errors: `CrmError` naming the operation and the error class only. Personal data:
payloads and `crm_links.sent`; nothing here logs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from crm_adapter.delivery import (
    CrmEvent,
    Link,
)
from crm_adapter.port import CrmError
from crm_adapter.store.models import CrmEventRow, CrmLinkRow, as_utc
from crm_adapter.sync_event import CONSENT_WITHDRAWN
from lotse.database import writer

T = TypeVar("T")
ERROR_LENGTH = 200
EVENTS = CrmEventRow.__table__
LINKS = CrmLinkRow.__table__
DEFAULT = "default"
NOTIFY = "notify"  # the connector of the notifications
NOTIFICATION = "notification"  # their kind
ERASED: dict[str, Any] = {"erased": True}
_PENDING = (EVENTS.c.delivered_at.is_(None), EVENTS.c.dead_at.is_(None))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def enqueue(
    connection: Connection, lead_id: int, kind: str, payload: Mapping[str, Any], now: datetime,
    connectors: Sequence[str] = (DEFAULT,),
) -> list[str]:  # fmt: skip
    """Adds the event for each connector in the caller's transaction; returns their ids."""
    import uuid  # here, not at the top: a command that only reads starts without it

    rows = [
        {
            "event_id": uuid.uuid4().hex,
            "contact_id": lead_id,
            "connector": connector[:32],
            "kind": kind[:64],
            "payload": dict(payload),
            "occurred_at": as_utc(now),
            "attempts": 0,
            "next_attempt_at": as_utc(now),
        }
        for connector in connectors
    ]
    if rows:
        connection.execute(insert(EVENTS), rows)
    return [row["event_id"] for row in rows]


def erase(connection: Connection, lead_ids: Sequence[int]) -> None:
    """Consent withdrawn: the contacts' event payloads and written values are erased."""
    ids = list(lead_ids)
    connection.execute(update(EVENTS).where(EVENTS.c.contact_id.in_(ids)).values(payload=ERASED))
    connection.execute(update(LINKS).where(LINKS.c.contact_id.in_(ids)).values(sent={}))


def carry_pending(connection: Connection, source_id: int, target_id: int) -> None:
    """A contact merged into another: its events not yet delivered (a task, a booking)
    go to the CRMs as the other's, in their order, instead of being lost; its
    notifications, sent or not, become the other's (an export shows them there)."""
    pending = and_(*_PENDING)
    connection.execute(
        update(EVENTS).where(EVENTS.c.contact_id == source_id,
                             or_(pending, EVENTS.c.connector == NOTIFY))
        .values(contact_id=target_id)
    )  # fmt: skip


def drop_notifications(connection: Connection, lead_id: int) -> None:
    """Consent withdrawn: the contact's notifications (recipients, texts) are deleted,
    sent or not; one not sent yet never goes."""
    connection.execute(
        delete(EVENTS).where(EVENTS.c.contact_id == lead_id, EVENTS.c.connector == NOTIFY)
    )


def linked_records(connection: Connection, lead_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(contact, connector) of the contacts that have a record at a CRM."""
    query = select(LINKS.c.contact_id, LINKS.c.connector).where(
        LINKS.c.contact_id.in_(list(lead_ids)), LINKS.c.remote_id.is_not(None)
    )
    return [(row.contact_id, row.connector) for row in connection.execute(query)]


@dataclass(frozen=True)
class Backlog:
    """One connector's events not delivered yet (`backlog`): for the metrics."""

    connector: str
    pending: int
    oldest: datetime | None  # when the oldest pending event happened
    dead: int


def backlog(engine: Engine) -> list[Backlog]:
    """Per connector: how many events wait, since when, and how many are dead."""
    first = func.min(EVENTS.c.occurred_at, type_=EVENTS.c.occurred_at.type)
    pending = (
        select(EVENTS.c.connector, func.count(), first)
        .where(*_PENDING).group_by(EVENTS.c.connector)
    )  # fmt: skip
    dead = (
        select(EVENTS.c.connector, func.count())
        .where(EVENTS.c.dead_at.is_not(None), EVENTS.c.delivered_at.is_(None))
        .group_by(EVENTS.c.connector)
    )  # fmt: skip
    try:
        with engine.connect() as c:
            waiting = {row[0]: (row[1], row[2]) for row in c.execute(pending)}
            given_up = {row[0]: row[1] for row in c.execute(dead)}
    except SQLAlchemyError as error:
        raise CrmError(f"reading the outbox's backlog failed ({type(error).__name__})") from error
    return [
        Backlog(name, waiting.get(name, (0, None))[0],
                as_utc(waiting[name][1]) if name in waiting else None, given_up.get(name, 0))
        for name in sorted(set(waiting) | set(given_up))
    ]  # fmt: skip


@dataclass(frozen=True)
class ClaimedEvent:
    row_id: int
    event: CrmEvent
    attempts: int
    lease: str = ""  # this claim's token: only its holder may mark the event
    leased_until: datetime | None = None


def _held(claimed: ClaimedEvent) -> tuple[Any, ...]:
    """The event is still pending and still leased by this claim."""
    return (EVENTS.c.id == claimed.row_id, EVENTS.c.lease == claimed.lease, *_PENDING)


class EventOutbox:
    """The events of one connector (`connector`); the dead-letter methods see all.
    `ordered`: a contact's events go one after the other (False: all that are due)."""

    def __init__(
        self, engine: Engine, lease: timedelta = timedelta(minutes=2), connector: str = DEFAULT,
        ordered: bool = True, links: bool = True,
    ) -> None:  # fmt: skip
        if lease <= timedelta(0):
            raise ValueError("an outbox lease must be positive")
        self._engine = engine
        self._writer = writer(engine)
        self.lease = lease
        self.connector = connector
        self.ordered = ordered
        self.links = links  # the connector keeps a record per contact (a CRM's, not mail)

    @classmethod
    def notifications(cls, engine: Engine, lease: timedelta) -> EventOutbox:
        """The notifications' side: unordered, and no record at the other end."""
        return cls(engine, lease, connector=NOTIFY, ordered=False, links=False)

    def _run(self, operation: str, work: Callable[[Connection], T], write: bool = True) -> T:
        try:
            with (self._writer if write else self._engine).begin() as connection:
                return work(connection)
        except SQLAlchemyError as err:
            raise CrmError(f"CRM events: {operation} failed ({type(err).__name__})") from None

    def add(self, lead_id: int, kind: str, payload: Mapping[str, Any], now: datetime) -> str:
        def work(c: Connection) -> str:
            return enqueue(c, lead_id, kind, payload, now, (self.connector,))[0]

        return self._run("adding an event", work)

    def claim(self, now: datetime, limit: int = 20) -> list[ClaimedEvent]:
        """The head event of up to `limit` contacts (unordered: up to `limit` events),
        due and not leased, leased now."""
        now = as_utc(now)
        earlier = aliased(CrmEventRow)
        blocked = exists().where(
            earlier.contact_id == EVENTS.c.contact_id,
            earlier.connector == EVENTS.c.connector,
            earlier.id < EVENTS.c.id,
            earlier.delivered_at.is_(None),  # pending or dead: both hold the later ones back
        )
        in_order = (~blocked,) if self.ordered else ()
        query = (
            select(EVENTS)
            .where(
                EVENTS.c.connector == self.connector,
                *_PENDING,
                *in_order,
                EVENTS.c.next_attempt_at <= now,
                or_(EVENTS.c.locked_until.is_(None), EVENTS.c.locked_until <= now),
            )
            .order_by(EVENTS.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

        def work(c: Connection) -> list[ClaimedEvent]:
            import uuid  # see enqueue

            rows = c.execute(query).all()
            token, until = uuid.uuid4().hex, now + self.lease
            if rows:
                ids = [row.id for row in rows]
                c.execute(update(EVENTS).where(EVENTS.c.id.in_(ids)).values(
                    locked_until=until, lease=token))  # fmt: skip
            return [
                ClaimedEvent(
                    row.id,
                    CrmEvent(
                        row.event_id,
                        row.kind,
                        row.contact_id,
                        row.payload,
                        row.occurred_at.isoformat(),
                        # never leased, failed or revived before: no earlier try landed
                        row.attempts == 0 and row.locked_until is None and not row.last_error,
                    ),
                    row.attempts,
                    token,
                    until,
                )  # fmt: skip
                for row in rows
            ]

        return self._run("claiming events", work)

    def delivered(self, claimed: ClaimedEvent, now: datetime, link: Link | None = None) -> None:
        """Marks the event delivered and keeps the contact's `link`, in one transaction
        (a withdrawal's payload, holding the email, is erased on the way)."""
        done = {"delivered_at": as_utc(now), "locked_until": None}
        if claimed.event.kind == CONSENT_WITHDRAWN:
            done["payload"] = ERASED
        mark = update(EVENTS).where(*_held(claimed)).values(**done)
        erased = select(EVENTS.c.payload).where(EVENTS.c.id == claimed.row_id)

        def work(c: Connection) -> None:
            if c.execute(mark).rowcount != 1 or link is None:
                return  # another worker holds it now (our lease ran out): it decides
            kept = link
            if c.execute(erased).scalar_one() == ERASED:  # consent withdrawn meanwhile
                kept = Link(link.remote_id, {})
            self._keep_link(c, claimed.event.lead_id, kept, now)

        self._run("marking an event delivered", work)

    def _keep_link(self, c: Connection, lead_id: int, link: Link, now: datetime) -> None:
        values = {"remote_id": link.remote_id, "sent": dict(link.sent), "updated_at": as_utc(now)}
        key = (LINKS.c.contact_id == lead_id, LINKS.c.connector == self.connector)
        if c.execute(update(LINKS).where(*key).values(**values)).rowcount == 0:
            c.execute(insert(LINKS), {"contact_id": lead_id, "connector": self.connector,
                                      **values})  # fmt: skip

    def link(self, lead_id: int) -> Link:
        if not self.links:
            return Link()  # nothing to read: one query less per notification
        query = select(LINKS.c.remote_id, LINKS.c.sent).where(
            LINKS.c.contact_id == lead_id, LINKS.c.connector == self.connector
        )

        def work(c: Connection) -> Link:
            row = c.execute(query).first()
            return Link() if row is None else Link(row.remote_id, row.sent or {})

        return self._run("reading a link", work, write=False)

    def retry(self, claimed: ClaimedEvent, at: datetime, error: str, count: bool = True) -> None:
        """Due again at `at`; `count`: the try counts towards `max_attempts`."""
        self._finish(claimed, "scheduling a retry",
                     attempts=EVENTS.c.attempts + (1 if count else 0),
                     next_attempt_at=as_utc(at), last_error=error[:ERROR_LENGTH])  # fmt: skip

    def dead(self, claimed: ClaimedEvent, now: datetime, error: str) -> None:
        self._finish(claimed, "marking an event dead", attempts=EVENTS.c.attempts + 1,
                     dead_at=as_utc(now), last_error=error[:ERROR_LENGTH])  # fmt: skip

    def release(self, claimed: ClaimedEvent) -> None:
        """Gives the lease up unsent: the event is due again at once."""
        self._finish(claimed, "releasing an event")

    def _finish(self, claimed: ClaimedEvent, operation: str, **values: object) -> None:
        statement = update(EVENTS).where(*_held(claimed))
        self._run(operation, lambda c: c.execute(statement.values(locked_until=None, **values)))

    def dead_letters(self) -> list[dict[str, Any]]:
        query = select(EVENTS.c.id, EVENTS.c.event_id, EVENTS.c.contact_id, EVENTS.c.connector,
                       EVENTS.c.kind,
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
            .values(delivered_at=as_utc(now), last_error="discarded", payload=ERASED)
        )
        return self._run("discarding an event", lambda c: c.execute(statement).rowcount == 1)

    def pending_count(self) -> int:
        query = (
            select(func.count())
            .select_from(EVENTS)
            .where(EVENTS.c.connector == self.connector, *_PENDING)
        )
        return self._run("counting events", lambda c: c.execute(query).scalar_one(), write=False)
