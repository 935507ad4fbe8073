"""The conversation event log: what happened in conversations, for analytics.

One row per Rasa event (`conversation_events`, migration 0009): type, time, intent or
action name, intent confidence, channel. Never a text a person typed; a slot's value
only for the insight slots, and only a value of the few they may hold
(`insights.conversation_summary.slot_event_name`). Rows come from two sources, both
idempotent through the table's unique key:

- `record(events)`: events as Rasa's event broker publishes them (the consumer,
  `bot/event_consumer.py`);
- `fill_from_tracker(engine)`: Rasa's SQL tracker store's `events` table, read after a
  remembered cursor. Rasa's Pika broker drops events published before it connected and
  keeps failed publishes only in its process's memory (lost when the process ends), so
  the broker alone may miss events; the tracker store has them all.

`rename(old, new)` serves an erasure (a conversation id may hold a phone number); from
both sources, events of an erased conversation from before its erasure's window ended
are dropped however late they come (`conversations/erased.py`), so they cannot
bring the old id back. `delete_before(moment)` serves the retention purge. Raises
SQLAlchemy errors.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Mapping
from math import inf
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from conversations.erased import ErasedConversations
from dialogue.experiments import exposure_responses, load_experiments
from insights import summary_store
from insights.conversation_summary import SLOT_VALUES, VARIANT_VALUE, slot_event_name
from lotse.database import writer
from lotse.shared_tables import NAME_CHARS
from lotse.shared_tables import events as events_table

TRACKER_SOURCE = "tracker"
SETTLED_SECONDS = 300.0
# `summary` in SQL, for PostgreSQL when the event log and Rasa's `events` share a database.
FILL_IN_DATABASE = text(r"""
    INSERT INTO conversation_events (conversation_id, type_name, at, name, confidence, channel)
    SELECT left(sender_id, 255), left(type_name, 32), timestamp,
           left(coalesce(CASE WHEN type_name = 'user' THEN intent_name
                              WHEN type_name = 'slot' AND (data::json ->> 'value') ~ (
                                   '^(' || CASE WHEN action_name LIKE 'ab\_%' THEN :variant
                                                WHEN action_name = 'language' THEN :language
                                                WHEN action_name = 'rating' THEN :rating
                                                WHEN action_name = 'handoff_requested'
                                                     THEN :handoff_requested
                                                WHEN action_name = 'qualification_step'
                                                     THEN :qualification_step
                                           END || ')$')
                              THEN action_name || '=' || (data::json ->> 'value')
                              ELSE action_name END, ''),
                128),
           CASE WHEN type_name = 'user'
                THEN (data::json -> 'parse_data' -> 'intent' ->> 'confidence')::float END,
           left(data::json ->> 'input_channel', 32)
    FROM events
    WHERE id BETWEEN :first AND :last AND timestamp IS NOT NULL
    ON CONFLICT DO NOTHING
""").bindparams(variant=VARIANT_VALUE, **SLOT_VALUES)
TOUCHED_IN_DATABASE = text(
    "SELECT DISTINCT left(sender_id, 255) FROM events WHERE id BETWEEN :first AND :last"
)
BATCH = 1000
SUMMARY_LOCK = 720_811  # PostgreSQL advisory lock of the summaries' writers
metadata = MetaData()
cursors = Table(
    "event_log_cursors",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("last_id", Integer, nullable=False),
)
# Rasa's SQL tracker store's table, read only.
tracker_events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
    Column("data", String),
)


def summary(event: Mapping[str, Any], conversation_id: str | None = None) -> dict[str, Any] | None:
    """The row for one serialised Rasa event; None without a conversation or a time."""
    conversation = conversation_id or event.get("sender_id")
    at = event.get("timestamp")
    kind = event.get("event")
    if not isinstance(conversation, str) or not isinstance(at, (int, float)):
        return None
    if not isinstance(kind, str):
        return None
    parse_data = event.get("parse_data")
    intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
    intent = intent if isinstance(intent, dict) else {}
    name = intent.get("name") if kind == "user" else event.get("name")
    if kind == "slot" and isinstance(name, str):
        name = slot_event_name(name, event.get("value"))
    confidence = intent.get("confidence") if kind == "user" else None
    channel = event.get("input_channel")
    return {
        "conversation_id": conversation[:255],
        "type_name": kind[:32],
        "at": float(at),
        "name": name[:NAME_CHARS] if isinstance(name, str) else "",
        "confidence": float(confidence) if isinstance(confidence, (int, float)) else None,
        "channel": channel[:32] if isinstance(channel, str) else None,
    }


class EventLog:
    """Also keeps the insight summaries (`insights/summary_store.py`) of every
    conversation whose events it adds, in the same transaction."""

    def __init__(self, engine: Engine, responses: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.erased = ErasedConversations(engine)
        self.responses = (
            exposure_responses(load_experiments()) if responses is None else dict(responses)
        )

    def _insert_ignoring_duplicates(self, rows: list[dict[str, Any]]) -> None:
        """Adds rows, but none of an erased conversation from before its erasure's window
        ended (`ErasedConversations.cutoffs`), however late it comes: the marks are read
        inside the write transaction, after the writers' lock, so an erasure's renaming
        (which takes the same lock) either comes after and renames these rows or came
        before and its mark is seen."""
        if not rows:
            return
        dialect = self.engine.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(events_table).on_conflict_do_nothing()
        with writer(self.engine).begin() as connection:
            self._take_turn(connection)
            ids = {row["conversation_id"] for row in rows}
            cutoffs = self.erased.cutoffs(ids, connection=connection)
            rows = [row for row in rows if row["at"] >= cutoffs.get(row["conversation_id"], -inf)]
            if rows:
                connection.execute(statement, rows)
                self._summarise(connection, {row["conversation_id"] for row in rows})

    def _take_turn(self, connection: Connection) -> None:
        """Writers of the log and its summaries take turns on PostgreSQL (SQLite's
        writers already do: BEGIN IMMEDIATE), so two never insert one summary and a
        rename never misses rows being written."""
        if self.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SUMMARY_LOCK})

    def _summarise(self, connection: Connection, conversation_ids: set[str]) -> None:
        self._take_turn(connection)  # held already by most callers: taking it again is free
        summary_store.refresh(connection, conversation_ids, self.responses)

    def record(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Adds the broker's events, but none an erasure dropped (still queued when
        the conversation was erased, however late they come); returns how many were
        readable."""
        rows = [row for event in events if (row := summary(event)) is not None]
        self._insert_ignoring_duplicates(rows)
        return len(rows)

    def fill_from_tracker(self, tracker: Engine, now: float | None = None) -> int:
        """Adds the tracker store's events after the cursor; returns how many were read.

        Rasa's ids come from a sequence, so a row may become visible after rows with
        higher ids (its turn committed later). The cursor therefore moves only over rows
        older than SETTLED_SECONDS, far longer than a turn can hold its transaction
        (the conversation lock lives 60 s): newer rows are added now and read again
        next time (adding them twice does nothing)."""
        settled_before = (time.time() if now is None else now) - SETTLED_SECONDS
        with self.engine.connect() as connection:
            cursor = connection.execute(
                select(cursors.c.last_id).where(cursors.c.source == TRACKER_SOURCE)
            ).scalar_one_or_none()
        last = cursor or 0
        read = 0
        while True:
            with tracker.connect() as connection:
                batch = connection.execute(
                    select(tracker_events.c.id, tracker_events.c.timestamp)
                    .where(tracker_events.c.id > last)
                    .order_by(tracker_events.c.id)
                    .limit(BATCH)
                ).all()
            if not batch:
                return read
            self._add(tracker, batch[0].id, batch[-1].id)
            read += len(batch)
            settled = [row.id for row in itertools.takewhile(
                lambda row: (row.timestamp or 0) < settled_before, batch)]  # fmt: skip
            if settled:
                self._move_cursor(settled[-1])
            if len(settled) < len(batch):
                return read
            last = batch[-1].id

    def _add(self, tracker: Engine, first: int, last: int) -> None:
        """Adds the tracker's events with ids first..last: inside PostgreSQL when both
        tables are in one database (no event crosses to Python), else row by row."""
        if self._shares_database(tracker):
            with writer(self.engine).begin() as connection:
                self._take_turn(connection)
                connection.execute(FILL_IN_DATABASE, {"first": first, "last": last})
                touched = set(
                    connection.execute(TOUCHED_IN_DATABASE, {"first": first, "last": last})
                    .scalars()
                )  # fmt: skip
                # The tracker store still had events of erased conversations: none from
                # before the erasure's window ended goes to the log.
                for erased, cutoff in self.erased.cutoffs(touched, connection=connection).items():
                    connection.execute(
                        delete(events_table).where(
                            events_table.c.conversation_id == erased, events_table.c.at < cutoff
                        )
                    )
                self._summarise(connection, touched)
            return
        with tracker.connect() as connection:
            rows = connection.execute(
                select(tracker_events.c.sender_id, tracker_events.c.data).where(
                    tracker_events.c.id.between(first, last)
                )
            ).all()
        self._insert_ignoring_duplicates(
            [row for r in rows if (row := summary(_loads(r.data), r.sender_id)) is not None]
        )

    def _shares_database(self, tracker: Engine) -> bool:
        if self.engine.dialect.name != "postgresql" or tracker.dialect.name != "postgresql":
            return False
        where = ("host", "port", "database", "username")
        return all(getattr(tracker.url, k) == getattr(self.engine.url, k) for k in where)

    def _move_cursor(self, last_id: int) -> None:
        with writer(self.engine).begin() as connection:
            moved = connection.execute(
                update(cursors).where(cursors.c.source == TRACKER_SOURCE).values(last_id=last_id)
            ).rowcount
            if not moved:
                connection.execute(cursors.insert().values(source=TRACKER_SOURCE, last_id=last_id))

    def rebuild_summaries(self) -> int:
        """Every conversation's summaries anew from its events (an upgrade's existing
        events, a changed experiments file); returns how many conversations."""
        with self.engine.connect() as connection:
            ids = list(
                connection.execute(select(events_table.c.conversation_id).distinct()).scalars()
            )
        for start in range(0, len(ids), BATCH):
            with writer(self.engine).begin() as connection:
                self._summarise(connection, set(ids[start : start + BATCH]))
        return len(ids)

    def events_of(self, conversation_id: str) -> list[dict[str, Any]]:
        query = (
            select(events_table)
            .where(events_table.c.conversation_id == conversation_id)
            .order_by(events_table.c.at, events_table.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def rename(self, old: str, new: str) -> None:
        with writer(self.engine).begin() as connection:
            self._take_turn(connection)
            connection.execute(
                update(events_table)
                .where(events_table.c.conversation_id == old)
                .values(conversation_id=new)
            )
            summary_store.rename(connection, old, new)

    def delete_before(self, moment: float) -> int:
        """Deletes older events, and re-derives the summaries of their conversations."""
        with writer(self.engine).begin() as connection:
            touched = connection.execute(
                select(events_table.c.conversation_id).distinct().where(events_table.c.at < moment)
            ).scalars()
            touched = set(touched)
            deleted = connection.execute(
                delete(events_table).where(events_table.c.at < moment)
            ).rowcount
            self._summarise(connection, touched)
            return deleted


def _loads(data: str | None) -> dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
