"""Marks of erased conversations: what a running turn or the broker must not bring back.

An erasure (`privacy.erasure`) deletes a conversation's transcript while one of its
turns may still be running; Rasa saves a turn at its end, and would write the whole
conversation back (its SQL store counts what is stored: nothing, so everything is
new). Events published before the erasure may still wait in RabbitMQ or in the
embedded broker's memory, for any time (a consumer down, a database away). So the
erasure marks each conversation (`mark`):

- for WINDOW_SECONDS, far longer than a turn (its lock lives 60 s), the tracker store
  deletes instead of saving a marked conversation (`recent`, `bot/loud_tracker_store.py`):
  a visitor who writes again within the window is answered, but that conversation is
  not kept either;
- for ever, the event log drops every event of the conversation that happened before
  the window's end, however late it arrives (`cutoffs`, `insights/event_log.py`); what the
  conversation has after the window (the person writes again) is kept.

A mark is the SHA-256 of the id (a WhatsApp id is a phone number) while its window
runs. After it (at the next `mark` or `bury`, the daily retention purge calls it), the
mark becomes a tombstone that keeps only TOMBSTONE_HEX hex digits (16 bits) of that
hash and the latest erasure time of the ids sharing them: it cannot name the
conversation (one id in 65 536 shares it), though whoever already knows an id can tell
that it may have been erased. An event of another conversation sharing a tombstone is
dropped too, only if it happened before that tombstone's window ended and arrived after
the tombstone was made (a broker backlog spanning an erasure): the event log loses it,
nothing else does. Raises SQLAlchemy errors.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable

from sqlalchemy import Column, Float, MetaData, String, Table, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from lotse.database import writer

WINDOW_SECONDS = 600.0
TOMBSTONE_PREFIX = "tomb:"  # a key of this prefix is a tombstone, any other a mark
TOMBSTONE_HEX = 4
metadata = MetaData()
marks = Table(
    "erased_conversations",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("erased_at", Float, nullable=False),
)


def key_of(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode("utf-8", "surrogatepass")).hexdigest()


def tombstone_of(key: str) -> str:
    return TOMBSTONE_PREFIX + key[:TOMBSTONE_HEX]


class ErasedConversations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def mark(self, conversation_ids: Iterable[str], now: float | None = None) -> None:
        moment = time.time() if now is None else now
        rows = [{"key": key, "erased_at": moment} for key in {key_of(c) for c in conversation_ids}]
        with writer(self.engine).begin() as connection:
            self._bury(connection, moment)
            if rows:
                self._upsert(connection, rows, latest=False)

    def bury(self, now: float | None = None) -> int:
        """Turns the marks whose window is over into tombstones; returns how many."""
        with writer(self.engine).begin() as connection:
            return self._bury(connection, time.time() if now is None else now)

    def _bury(self, connection: Connection, moment: float) -> int:
        over = (marks.c.erased_at < moment - WINDOW_SECONDS) & ~marks.c.key.startswith(
            TOMBSTONE_PREFIX
        )
        expired = connection.execute(select(marks.c.key, marks.c.erased_at).where(over)).all()
        if not expired:
            return 0
        tombstones: dict[str, float] = {}
        for key, erased_at in expired:
            tombstone = tombstone_of(key)
            tombstones[tombstone] = max(erased_at, tombstones.get(tombstone, erased_at))
        rows = [{"key": key, "erased_at": at} for key, at in tombstones.items()]
        self._upsert(connection, rows, latest=True)
        connection.execute(delete(marks).where(marks.c.key.in_([k for k, _ in expired]), over))
        return len(expired)

    def _upsert(self, connection: Connection, rows: list[dict[str, object]], latest: bool) -> None:
        """Inserts `rows`; an existing key takes the new time (`latest`: the later one)."""
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(marks)
        new = statement.excluded.erased_at
        at = case((new > marks.c.erased_at, new), else_=marks.c.erased_at) if latest else new
        connection.execute(
            statement.on_conflict_do_update(index_elements=["key"], set_={"erased_at": at}), rows
        )

    def cutoffs(self, conversation_ids: Iterable[str], connection: Connection) -> dict[str, float]:
        """For each of `conversation_ids` that was erased (its mark, however old, or a
        tombstone its id shares): the moment before which its events are dropped, the
        end of its window. Read on `connection`, inside the caller's transaction."""
        ids = set(conversation_ids)
        if not ids:
            return {}
        named: dict[str, list[str]] = {}
        for conversation_id in ids:
            key = key_of(conversation_id)
            named.setdefault(key, []).append(conversation_id)
            named.setdefault(tombstone_of(key), []).append(conversation_id)
        query = select(marks.c.key, marks.c.erased_at).where(marks.c.key.in_(list(named)))
        found: dict[str, float] = {}
        for key, erased_at in connection.execute(query):
            for conversation_id in named[key]:
                end = erased_at + WINDOW_SECONDS
                found[conversation_id] = max(end, found.get(conversation_id, end))
        return found

    def recent(
        self,
        conversation_ids: Iterable[str],
        now: float | None = None,
        connection: Connection | None = None,
    ) -> set[str]:
        """Those of `conversation_ids` erased within the window (read on `connection`,
        inside the caller's transaction, when given)."""
        wanted = {key_of(c): c for c in conversation_ids}
        if not wanted:
            return set()
        since = (time.time() if now is None else now) - WINDOW_SECONDS
        query = select(marks.c.key).where(marks.c.key.in_(wanted), marks.c.erased_at >= since)
        if connection is not None:
            return {wanted[key] for key in connection.execute(query).scalars()}
        with self.engine.connect() as own:
            return {wanted[key] for key in own.execute(query).scalars()}
