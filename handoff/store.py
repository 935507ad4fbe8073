"""The handoff store: handoffs, their messages, notes and events, staff presence.

Every replica of Rasa, the action server and the console read and write the same
tables (SQLite by default, PostgreSQL at scale), so the owner of a conversation is
the same wherever a message lands. A state change is one conditional UPDATE ("where
the version is still the one I read"): of two agents claiming at once exactly one
wins, the other gets `Conflict`. Every change also writes a `handoff_events` row; its
increasing id is the change feed the console and the widget wait on.

Personal data: message texts (what visitor and staff wrote) and notes. They are
bounded (MAX_TEXT) and never logged. Errors from the database propagate as
SQLAlchemy errors. The tables are made by the Alembic migrations of the shared schema
(`lotse/migrations/versions/0003_handoff_and_staff.py`); the definitions below
must match them (a test compares).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from crm_adapter.store.models import UtcDateTime, partial_index, postgresql_where_on_create
from crm_adapter.store.publish import publish_on
from crm_adapter.sync_event import HANDOFF_CLOSED, transcript_lines
from handoff.ownership import BOT, CLOSED, OPEN_STATES, WAITING, next_state
from lotse.database import writer

MAX_TEXT = 2000
SENDERS = ("visitor", "agent", "bot", "system")
# How a handoff ended, for the CRM, when no outcome was chosen.
OUTCOMES = {"cancel": "cancelled by the visitor", "timeout": "nobody was free in time",
            "hand_back": "handed back to the bot"}  # fmt: skip
metadata = MetaData()

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(32)),
    Column("page", String(64)),
    Column("need", String(16), nullable=False),
    Column("lead_id", Integer),
    Column("team", String(32), nullable=False),
    Column("rule", String(64)),
    Column("responsible", JSON, nullable=False),
    Column("assignee", String(64)),
    Column("explanation", JSON, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("claim_deadline", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("outcome", String(32)),
    Column("outcome_reason", String(500)),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # One open handoff per conversation, whichever replica asks.
    partial_index("uq_handoffs_open", "conversation_id", unique=True,
                  where="state IN ('waiting', 'human')"),
)
postgresql_where_on_create(metadata)

messages = Table(
    "handoff_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("handoff_id", Integer),
    Column("sender", String(16), nullable=False),
    Column("author", String(64)),
    Column("author_label", String(128)),
    Column("text", Text, nullable=False),
    Column("buttons", JSON),
    Column("at", UtcDateTime, nullable=False),
)

notes = Table(
    "handoff_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer, nullable=False, index=True),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

events = Table(
    "handoff_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(128), nullable=False),
    Column("handoff_id", Integer, index=True),
    Column("kind", String(32), nullable=False),
    Column("actor", String(64)),
    Column("detail", JSON),
    Column("at", UtcDateTime, nullable=False),
)

presence = Table(
    "handoff_presence",
    metadata,
    Column("staff_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
)

# Who is typing in a handoff (`handoff.typing_indicator`): one row per side at most,
# replaced on every write, so its increasing id is a change feed of its own (the newest
# row is never deleted: SQLite would give its id again). No text, only times.
typing_table = Table(
    "handoff_typing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer, nullable=False, index=True),
    Column("side", String(8), nullable=False),
    Column("until", UtcDateTime, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

round_robin = Table(
    "handoff_round_robin",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("last_staff", String(64), nullable=False),
)


class Conflict(Exception):
    """The handoff changed since it was read (someone else acted first)."""


class UnknownHandoff(LookupError):
    """No handoff with that id."""


@dataclass(frozen=True)
class NewHandoff:
    conversation_id: str
    reason: str
    language: str
    need: str
    team: str
    claim_timeout: timedelta
    channel: str | None = None
    page: str | None = None
    lead_id: int | None = None
    rule: str | None = None
    responsible: tuple[str, ...] = ()
    assignee: str | None = None
    explanation: tuple[str, ...] = ()


@dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: str
    state: str
    reason: str
    language: str
    channel: str | None
    page: str | None
    need: str
    lead_id: int | None
    team: str
    rule: str | None
    responsible: list[str]
    assignee: str | None
    explanation: list[str]
    requested_at: datetime
    claim_deadline: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    outcome_reason: str | None
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    handoff_id: int | None
    sender: str
    author: str | None
    author_label: str | None
    text: str
    buttons: list[dict[str, str]] | None
    at: datetime


@dataclass(frozen=True)
class Note:
    id: int
    handoff_id: int
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Event:
    id: int
    conversation_id: str
    handoff_id: int | None
    kind: str
    actor: str | None
    detail: dict[str, Any] | None
    at: datetime


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def bounded(value: str, limit: int = MAX_TEXT) -> str:
    return value.strip()[:limit]


def _bounded_buttons(buttons: Sequence[Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    found = [
        {"title": bounded(str(b.get("title", "")), 80),
         "payload": bounded(str(b.get("payload", "")), 200)}
        for b in buttons or ()
    ]  # fmt: skip
    return found or None


def _record(cls: type, row: Mapping[str, Any]) -> Any:
    return cls(**{f.name: row[f.name] for f in fields(cls)})


class HandoffStore:
    """See the module docstring. Thread-safe as far as the engine is."""

    def __init__(self, engine: Engine, connectors: Sequence[str] = ()) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self.connectors = tuple(connectors)  # external CRMs that get handoff outcomes

    @property
    def engine(self) -> Engine:
        """The database these tables are in (the typing indicator shares it)."""
        return self._engine

    # -- handoffs ----------------------------------------------------------------

    def request(self, new: NewHandoff, now: datetime | None = None) -> Handoff:
        """Opens a handoff in the waiting state. If the conversation already has an open
        one, that one is returned unchanged (a second request is not a second handoff)."""
        now = now or utc_now()
        row = {
            "conversation_id": new.conversation_id[:128],
            "state": WAITING,
            "reason": new.reason[:32],
            "language": new.language[:8],
            "channel": (new.channel or "")[:32] or None,
            "page": (new.page or "")[:64] or None,
            "need": new.need[:16],
            "lead_id": new.lead_id,
            "team": new.team,
            "rule": new.rule,
            "responsible": list(new.responsible),
            "assignee": new.assignee,
            "explanation": list(new.explanation),
            "requested_at": now,
            "claim_deadline": now + new.claim_timeout,
            "version": 1,
            "updated_at": now,
        }
        try:
            with self._writer.begin() as c:
                handoff_id = c.execute(insert(handoffs), row).inserted_primary_key[0]
                if new.rule and new.assignee:
                    self._remember_assignee(c, new.rule, new.assignee)
                self._event(
                    c,
                    row["conversation_id"],
                    handoff_id,
                    "request",
                    None,
                    now,
                    {"team": new.team, "assignee": new.assignee, "rule": new.rule},
                )
        except IntegrityError:
            existing = self.open_handoff(new.conversation_id)
            if existing is None:
                raise
            return existing
        return self.get(handoff_id)

    def get(self, handoff_id: int) -> Handoff:
        with self._engine.connect() as c:
            row = c.execute(select(handoffs).where(handoffs.c.id == handoff_id)).mappings().first()
        if row is None:
            raise UnknownHandoff(handoff_id)
        return _record(Handoff, row)

    def open_handoff(self, conversation_id: str) -> Handoff | None:
        query = select(handoffs).where(
            handoffs.c.conversation_id == conversation_id[:128],
            handoffs.c.state.in_(OPEN_STATES),
        )
        with self._engine.connect() as c:
            row = c.execute(query).mappings().first()
        return _record(Handoff, row) if row else None

    def latest(self, conversation_id: str) -> Handoff | None:
        query = (
            select(handoffs)
            .where(handoffs.c.conversation_id == conversation_id[:128])
            .order_by(handoffs.c.id.desc())
            .limit(1)
        )
        with self._engine.connect() as c:
            row = c.execute(query).mappings().first()
        return _record(Handoff, row) if row else None

    def for_conversation(self, conversation_id: str) -> list[Handoff]:
        query = (
            select(handoffs)
            .where(handoffs.c.conversation_id == conversation_id[:128])
            .order_by(handoffs.c.id)
        )
        with self._engine.connect() as c:
            return [_record(Handoff, r) for r in c.execute(query).mappings()]

    def erase_conversation(self, conversation_id: str, erased_id: str) -> None:
        """DSGVO erasure: the conversation's messages and staff notes are deleted, the
        outcome reasons cleared, and its handoffs and events keep only `erased_id`."""
        old = conversation_id[:128]
        ids = select(handoffs.c.id).where(handoffs.c.conversation_id == old)
        with self._writer.begin() as c:
            c.execute(delete(notes).where(notes.c.handoff_id.in_(ids)))
            c.execute(delete(messages).where(messages.c.conversation_id == old))
            c.execute(update(handoffs).where(handoffs.c.conversation_id == old)
                      .values(conversation_id=erased_id, outcome_reason=None))  # fmt: skip
            c.execute(update(events).where(events.c.conversation_id == old)
                      .values(conversation_id=erased_id))  # fmt: skip

    def delete_messages_before(self, cutoff: datetime) -> int:
        """Retention: messages and staff notes written before `cutoff` are deleted;
        returns how many messages."""
        with self._writer.begin() as c:
            c.execute(delete(notes).where(notes.c.at < cutoff))
            return c.execute(delete(messages).where(messages.c.at < cutoff)).rowcount

    def transition(
        self,
        handoff: Handoff,
        event: str,
        actor: str | None,
        now: datetime | None = None,
        detail: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Handoff:
        """Applies `event` to `handoff` as read; Conflict if it changed meanwhile.

        `changes` are further columns to set (assignee, team, outcome ...)."""
        now = now or utc_now()
        target = next_state(handoff.state, event)
        values = {"state": target, "version": handoff.version + 1, "updated_at": now, **changes}
        statement = (
            update(handoffs)
            .where(handoffs.c.id == handoff.id, handoffs.c.version == handoff.version)
            .values(**values)
        )
        with self._writer.begin() as c:
            if c.execute(statement).rowcount != 1:
                raise Conflict(f"handoff {handoff.id} changed before {event!r}")
            self._event(
                c, handoff.conversation_id, handoff.id, event, actor, now, dict(detail or {})
            )
            if target in (BOT, CLOSED) and handoff.lead_id is not None and self.connectors:
                outcome = self._outcome(c, handoff, event, actor, now, changes)
                publish_on(c, handoff.lead_id, HANDOFF_CLOSED, outcome, now, self.connectors)
        return self.get(handoff.id)

    @staticmethod
    def _outcome(
        c: Connection, handoff: Handoff, event: str, actor: str | None, now: datetime,
        changes: Mapping[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        """A handoff's end for the CRM: who, how, and the chat with the person."""
        said = select(messages).where(messages.c.handoff_id == handoff.id).order_by(messages.c.id)
        transcript = [
            {"from": row.author_label or row.sender, "text": row.text, "at": row.at.isoformat()}
            for row in c.execute(said)
            if row.sender != "system"
        ]
        return {
            "team": handoff.team, "agent": actor if event == "close" else handoff.assignee,
            "outcome": changes.get("outcome") or OUTCOMES.get(event, event),
            "reason": changes.get("outcome_reason") or handoff.reason,
            "requested_at": handoff.requested_at.isoformat(), "closed_at": now.isoformat(),
            "transcript": transcript_lines(transcript),
        }  # fmt: skip

    def open_handoffs(self) -> list[Handoff]:
        query = select(handoffs).where(handoffs.c.state.in_(OPEN_STATES)).order_by(handoffs.c.id)
        with self._engine.connect() as c:
            return [_record(Handoff, r) for r in c.execute(query).mappings()]

    def count_in(self, state: str) -> int:
        """How many handoffs are in `state` now (the metrics' waiting handoffs)."""
        query = select(func.count()).select_from(handoffs).where(handoffs.c.state == state)
        with self._engine.connect() as c:
            return int(c.execute(query).scalar_one())

    def recent_closed(self, limit: int = 50) -> list[Handoff]:
        query = (
            select(handoffs)
            .where(handoffs.c.state.not_in(OPEN_STATES))
            .order_by(handoffs.c.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as c:
            return [_record(Handoff, r) for r in c.execute(query).mappings()]

    def expired_waiting(self, now: datetime) -> list[Handoff]:
        query = select(handoffs).where(
            handoffs.c.state == WAITING, handoffs.c.claim_deadline <= now
        )
        with self._engine.connect() as c:
            return [_record(Handoff, r) for r in c.execute(query).mappings()]

    def position(self, handoff: Handoff) -> int:
        """1 for the first in its team's queue."""
        query = select(func.count()).where(
            handoffs.c.state == WAITING,
            handoffs.c.team == handoff.team,
            handoffs.c.id < handoff.id,
        )
        with self._engine.connect() as c:
            return int(c.execute(query).scalar_one()) + 1

    def recent_waits(self, team: str, limit: int = 20) -> list[float]:
        """Seconds from request to claim of the team's latest claimed handoffs."""
        query = (
            select(handoffs.c.requested_at, handoffs.c.claimed_at)
            .where(handoffs.c.team == team, handoffs.c.claimed_at.is_not(None))
            .order_by(handoffs.c.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as c:
            return [
                (claimed - requested).total_seconds() for requested, claimed in c.execute(query)
            ]

    def loads(self) -> dict[str, int]:
        """Open handoffs per staff member they are assigned to."""
        query = (
            select(handoffs.c.assignee, func.count())
            .where(handoffs.c.state.in_(OPEN_STATES), handoffs.c.assignee.is_not(None))
            .group_by(handoffs.c.assignee)
        )
        with self._engine.connect() as c:
            return {staff: int(n) for staff, n in c.execute(query)}

    # -- round robin -------------------------------------------------------------

    def last_assigned(self) -> dict[str, str]:
        with self._engine.connect() as c:
            return {r.rule: r.last_staff for r in c.execute(select(round_robin))}

    def _remember_assignee(self, c: Connection, rule: str, staff_id: str) -> None:
        done = c.execute(
            update(round_robin).where(round_robin.c.rule == rule).values(last_staff=staff_id)
        )
        if done.rowcount == 0:
            c.execute(insert(round_robin), {"rule": rule, "last_staff": staff_id})

    # -- messages, notes, events ---------------------------------------------------

    def add_message(
        self,
        conversation_id: str,
        sender: str,
        text_: str,
        handoff_id: int | None = None,
        author: str | None = None,
        author_label: str | None = None,
        now: datetime | None = None,
        buttons: Sequence[Mapping[str, str]] | None = None,
    ) -> Message:
        if sender not in SENDERS:
            raise ValueError(f"unknown sender {sender!r}")
        now = now or utc_now()
        row = {
            "conversation_id": conversation_id[:128],
            "handoff_id": handoff_id,
            "sender": sender,
            "author": author,
            "author_label": (author_label or "")[:128] or None,
            "text": bounded(text_),
            "buttons": [
                {
                    "title": bounded(str(b.get("title", "")), 80),
                    "payload": bounded(str(b.get("payload", "")), 200),
                }
                for b in buttons or ()
            ]
            or None,
            "at": now,
        }
        typed = self._typing(handoff_id, sender)  # read before the write, outside its lock
        with self._writer.begin() as c:
            message_id = c.execute(insert(messages), row).inserted_primary_key[0]
            if typed is not None:
                # Who sent a message has stopped typing it (`handoff.typing_indicator`):
                # it counted until when it was reported. An update, not a delete: the
                # rows' ids are a change feed and must never come again.
                c.execute(update(typing_table).where(typing_table.c.id == typed)
                          .values(until=typing_table.c.at))  # fmt: skip
            self._event(
                c,
                row["conversation_id"],
                handoff_id,
                "message",
                author,
                now,
                {"sender": sender, "message_id": message_id},
            )
        return Message(id=message_id, **row)

    @staticmethod
    def add_message_in(
        c: Connection, conversation_id: str, sender: str, text_: str,
        buttons: Sequence[Mapping[str, str]] | None = None, now: datetime | None = None,
    ) -> int:  # fmt: skip
        """A message of no handoff (the bot's answer on a messenger, queued by
        `bot.channels.inbox`), written in the caller's transaction `c`. The relay finds
        it with `unhanded_since`; no handoff event is written (no console has it open)."""
        if sender not in SENDERS:
            raise ValueError(f"unknown sender {sender!r}")
        row = {"conversation_id": conversation_id[:128], "handoff_id": None, "sender": sender,
               "author": None, "author_label": None, "text": bounded(text_),
               "buttons": _bounded_buttons(buttons), "at": now or utc_now()}  # fmt: skip
        return int(c.execute(insert(messages), row).inserted_primary_key[0])

    def messages_by_id(self, message_ids: Sequence[int]) -> dict[int, Message]:
        if not message_ids:
            return {}
        query = select(messages).where(messages.c.id.in_(list(message_ids)))
        with self._engine.connect() as c:
            return {int(r["id"]): _record(Message, r) for r in c.execute(query).mappings()}

    def latest_message_id(self) -> int:
        with self._engine.connect() as c:
            return int(c.execute(select(func.max(messages.c.id))).scalar() or 0)

    def unhanded_since(self, after_id: int, limit: int = 1000) -> list[tuple[int, str]]:
        """(message id, conversation id) of the messages of no handoff after `after_id`
        (`add_message_in`), oldest first."""
        query = (
            select(messages.c.id, messages.c.conversation_id)
            .where(messages.c.id > after_id, messages.c.handoff_id.is_(None))
            .order_by(messages.c.id)
            .limit(limit)
        )
        with self._engine.connect() as c:
            return [(int(i), str(conversation)) for i, conversation in c.execute(query)]

    def messages(
        self, conversation_id: str, after_id: int = 0, senders: Sequence[str] | None = None
    ) -> list[Message]:
        query = select(messages).where(
            messages.c.conversation_id == conversation_id[:128], messages.c.id > after_id
        )
        if senders is not None:
            query = query.where(messages.c.sender.in_(senders))
        with self._engine.connect() as c:
            return [
                _record(Message, r) for r in c.execute(query.order_by(messages.c.id)).mappings()
            ]

    def _typing(self, handoff_id: int | None, sender: str) -> int | None:
        """The id of `sender`'s typing row in the handoff while it has not ended."""
        if handoff_id is None or sender not in ("visitor", "agent"):
            return None
        query = select(typing_table.c.id).where(
            typing_table.c.handoff_id == handoff_id, typing_table.c.side == sender,
            typing_table.c.until > typing_table.c.at,
        )  # fmt: skip
        with self._engine.connect() as c:
            return c.execute(query.limit(1)).scalar()

    def last_visitor_message(self, handoff_ids: Sequence[int]) -> dict[int, int]:
        """Per handoff, the id of the visitor's newest message to a person (the console
        tells an agent who is elsewhere that the visitor wrote)."""
        if not handoff_ids:
            return {}
        query = (
            select(messages.c.handoff_id, func.max(messages.c.id))
            .where(messages.c.handoff_id.in_(list(handoff_ids)), messages.c.sender == "visitor")
            .group_by(messages.c.handoff_id)
        )
        with self._engine.connect() as c:
            return {int(handoff): int(message) for handoff, message in c.execute(query)}

    def add_note(
        self, handoff: Handoff, author: str, text_: str, now: datetime | None = None
    ) -> Note:
        now = now or utc_now()
        row = {"handoff_id": handoff.id, "author": author, "text": bounded(text_), "at": now}
        with self._writer.begin() as c:
            note_id = c.execute(insert(notes), row).inserted_primary_key[0]
            self._event(c, handoff.conversation_id, handoff.id, "note", author, now, {})
        return Note(id=note_id, **row)

    def notes(self, handoff_id: int) -> list[Note]:
        query = select(notes).where(notes.c.handoff_id == handoff_id).order_by(notes.c.id)
        with self._engine.connect() as c:
            return [_record(Note, r) for r in c.execute(query).mappings()]

    def events(self, handoff_id: int) -> list[Event]:
        query = select(events).where(events.c.handoff_id == handoff_id).order_by(events.c.id)
        with self._engine.connect() as c:
            return [_record(Event, r) for r in c.execute(query).mappings()]

    def latest_event_id(self) -> int:
        with self._engine.connect() as c:
            return int(c.execute(select(func.max(events.c.id))).scalar() or 0)

    def changed_since(self, after_id: int, limit: int = 1000) -> list[tuple[int, str]]:
        """(event id, conversation id) of the events after `after_id`, oldest first."""
        query = (
            select(events.c.id, events.c.conversation_id)
            .where(events.c.id > after_id)
            .order_by(events.c.id)
            .limit(limit)
        )
        with self._engine.connect() as c:
            return [(int(i), str(conversation)) for i, conversation in c.execute(query)]

    @staticmethod
    def _event(
        c: Connection,
        conversation_id: str,
        handoff_id: int | None,
        kind: str,
        actor: str | None,
        at: datetime,
        detail: dict[str, Any],
    ) -> None:
        c.execute(
            insert(events),
            {
                "conversation_id": conversation_id,
                "handoff_id": handoff_id,
                "kind": kind,
                "actor": actor,
                "detail": detail,
                "at": at,
            },
        )

    # -- presence ------------------------------------------------------------------

    def touch_presence(self, staff_id: str, status: str, now: datetime | None = None) -> None:
        """`status` is "available" or "away"; last_seen is the heartbeat."""
        now = now or utc_now()
        with self._writer.begin() as c:
            done = c.execute(
                update(presence)
                .where(presence.c.staff_id == staff_id)
                .values(status=status, last_seen=now)
            )
            if done.rowcount == 0:
                c.execute(
                    insert(presence), {"staff_id": staff_id, "status": status, "last_seen": now}
                )

    def heartbeat(self, staff_id: str, now: datetime | None = None) -> None:
        """The console of `staff_id` is open: keeps their status, renews last_seen."""
        now = now or utc_now()
        with self._writer.begin() as c:
            done = c.execute(
                update(presence).where(presence.c.staff_id == staff_id).values(last_seen=now)
            )
            if done.rowcount == 0:
                c.execute(
                    insert(presence),
                    {"staff_id": staff_id, "status": "available", "last_seen": now},
                )

    def online(self, now: datetime, within: timedelta) -> set[str]:
        """Staff ids available with a heartbeat no older than `within`."""
        query = select(presence.c.staff_id).where(
            presence.c.status == "available", presence.c.last_seen >= now - within
        )
        with self._engine.connect() as c:
            return set(c.execute(query).scalars())

    def statuses(self) -> dict[str, tuple[str, datetime]]:
        with self._engine.connect() as c:
            return {r.staff_id: (r.status, r.last_seen) for r in c.execute(select(presence))}
