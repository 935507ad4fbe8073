"""What the messengers sent, kept before the bot answers: each event once, in order.

A messenger webhook stores each message it gets (`accept`) and answers the platform at
once; a worker in a Rasa process (`bot.channels.inbox`) takes the events, the oldest
open one of each conversation first, and runs the bot's turn for it. The platform's id
of the event (Slack's `event_id`, Meta's `mid`, Twilio's `MessageSid`, Telegram's
`update_id`, the Bot Framework activity's id) is the key: `(channel, event_key)` is
unique, so an event the platform sends again is recognised and not stored twice.

An event is open until `done_at` is set (`finish_in`, in the caller's transaction, so
that the bot's answers are queued with it). A worker claims an event (`claim`) before
its turn: `claimed_at` is set if the event is open and unclaimed, or claimed before a
cutoff (its worker stopped); of several workers exactly one wins. A worker renews the
claims it holds (`renew`).

Personal data: `message` holds what the person wrote and their platform address; the
rows go with the conversation (`forget`) and after the retention period
(`delete_done_before`). Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from crm_adapter.store.models import UtcDateTime
from lotse.database import writer

MAX_KEY_CHARS = 200
MAX_OUTCOME_CHARS = 200

metadata = MetaData()

inbox = Table(
    "channel_inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("event_key", String(MAX_KEY_CHARS), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("message", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("done_at", UtcDateTime),
    Column("outcome", String(MAX_OUTCOME_CHARS)),
    UniqueConstraint("channel", "event_key", name="uq_channel_inbox_event"),
    Index("ix_channel_inbox_conversation_id", "conversation_id"),
    Index("ix_channel_inbox_done_at", "done_at"),
)


@dataclass(frozen=True)
class InboundEvent:
    id: int
    channel: str
    conversation_id: str
    message: dict[str, Any]
    received_at: datetime
    attempts: int


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ChannelInbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    @property
    def engine(self) -> Engine:
        """The database the inbox is in: a caller's unit of work spans it (`finish_in`)."""
        return self._writer

    def accept(
        self, channel: str, event_key: str, conversation_id: str, message: Mapping[str, Any],
        now: datetime | None = None,
    ) -> bool:  # fmt: skip
        """Stores the event; False when an event with this key was stored before."""
        row = {"channel": channel, "event_key": event_key[:MAX_KEY_CHARS],
               "conversation_id": conversation_id, "message": dict(message),
               "received_at": now or _now(), "attempts": 0}  # fmt: skip
        try:
            with self._writer.begin() as c:
                c.execute(insert(inbox), row)
        except IntegrityError:
            return False
        return True

    def seen(self, channel: str, event_key: str) -> bool:
        """Whether an event with this key was stored before."""
        key = event_key[:MAX_KEY_CHARS]
        query = select(inbox.c.id).where(inbox.c.channel == channel, inbox.c.event_key == key)
        with self._engine.connect() as c:
            return c.execute(query.limit(1)).first() is not None

    def heads(self, channels: tuple[str, ...], limit: int = 200) -> list[tuple[int, str]]:
        """(event id, conversation id) of each conversation's oldest open event, for
        the given channels, oldest first."""
        oldest = (
            select(func.min(inbox.c.id).label("id"))
            .where(inbox.c.done_at.is_(None), inbox.c.channel.in_(channels))
            .group_by(inbox.c.conversation_id)
            .subquery()
        )
        query = (
            select(inbox.c.id, inbox.c.conversation_id)
            .join(oldest, oldest.c.id == inbox.c.id)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        with self._engine.connect() as c:
            return [(int(i), str(conversation)) for i, conversation in c.execute(query)]

    def claim(self, event_id: int, claimed_before: datetime, now: datetime | None = None) -> bool:
        """True for the one caller that may run the event's turn: it is open and not
        claimed, or claimed before the cutoff (its worker stopped)."""
        with self._writer.begin() as c:
            done = c.execute(
                update(inbox)
                .where(inbox.c.id == event_id, inbox.c.done_at.is_(None),
                       or_(inbox.c.claimed_at.is_(None), inbox.c.claimed_at < claimed_before))
                .values(claimed_at=now or _now(), attempts=inbox.c.attempts + 1)
            )  # fmt: skip
        return done.rowcount == 1

    def renew(self, event_ids: list[int], now: datetime | None = None) -> None:
        if not event_ids:
            return
        with self._writer.begin() as c:
            c.execute(
                update(inbox)
                .where(inbox.c.id.in_(event_ids), inbox.c.done_at.is_(None))
                .values(claimed_at=now or _now())
            )

    def release(self, event_id: int) -> None:
        """The calling worker lets the event go (another may take it at once)."""
        with self._writer.begin() as c:
            c.execute(
                update(inbox)
                .where(inbox.c.id == event_id, inbox.c.done_at.is_(None))
                .values(claimed_at=None)
            )

    def get(self, event_id: int) -> InboundEvent | None:
        query = select(inbox).where(inbox.c.id == event_id)
        with self._engine.connect() as c:
            row = c.execute(query).mappings().first()
        if row is None:
            return None
        return InboundEvent(
            int(row["id"]), str(row["channel"]), str(row["conversation_id"]),
            dict(row["message"]), row["received_at"], int(row["attempts"]),
        )  # fmt: skip

    @staticmethod
    def finish_in(c: Connection, event_id: int, outcome: str, now: datetime | None = None) -> bool:
        """Marks the event done within the caller's transaction `c`; False if it was
        done already (another worker finished it: the caller rolls back)."""
        done = c.execute(
            update(inbox)
            .where(inbox.c.id == event_id, inbox.c.done_at.is_(None))
            .values(done_at=now or _now(), outcome=outcome[:MAX_OUTCOME_CHARS])
        )
        return done.rowcount == 1

    def open_count(self) -> int:
        with self._engine.connect() as c:
            return int(c.execute(select(func.count()).where(inbox.c.done_at.is_(None))).scalar())

    def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every stored event of the conversation, oldest first (tests, export)."""
        query = select(inbox).where(inbox.c.conversation_id == conversation_id).order_by(inbox.c.id)
        with self._engine.connect() as c:
            return [dict(r) for r in c.execute(query).mappings()]

    def forget(self, conversation_id: str) -> None:
        """DSGVO erasure: the conversation's stored events."""
        with self._writer.begin() as c:
            c.execute(delete(inbox).where(inbox.c.conversation_id == conversation_id))

    def delete_done_before(self, cutoff: datetime) -> int:
        """Retention: events answered before the cutoff; open ones stay."""
        with self._writer.begin() as c:
            done = c.execute(
                delete(inbox).where(and_(inbox.c.done_at.is_not(None), inbox.c.done_at < cutoff))
            )
        return int(done.rowcount or 0)
