"""Marks of recently erased conversations: what a running turn or the broker must not
bring back.

An erasure (`lotse.data_erasure`) deletes a conversation's transcript while one of its
turns may still be running; Rasa saves a turn at its end, and would write the whole
conversation back (its SQL store counts what is stored: nothing, so everything is
new). Events published before the erasure may still wait in RabbitMQ. So the erasure
marks each conversation for WINDOW_SECONDS, far longer than a turn (its lock lives
60 s) and a broker backlog: the tracker store deletes instead of saving a marked
conversation (`bot/loud_tracker_store.py`), and the event log drops its events
(`bot/event_log.py`). A visitor who writes again within the window is answered, but
that conversation is not kept either. Marks are a SHA-256 of the id (a WhatsApp id is
a phone number) and are removed after the window. Raises SQLAlchemy errors.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable

from sqlalchemy import Column, Float, MetaData, String, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from crm_adapter.store.engine import writer
from crm_adapter.store.migrate import migrate

WINDOW_SECONDS = 600.0
metadata = MetaData()
marks = Table(
    "erased_conversations",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("erased_at", Float, nullable=False),
)


def key_of(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode("utf-8", "surrogatepass")).hexdigest()


class ErasedConversations:
    def __init__(self, engine: Engine, migrated: bool = False) -> None:
        self.engine = engine
        if not migrated:
            migrate(engine)

    def mark(self, conversation_ids: Iterable[str], now: float | None = None) -> None:
        moment = time.time() if now is None else now
        rows = [{"key": key_of(c), "erased_at": moment} for c in conversation_ids]
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        with writer(self.engine).begin() as connection:
            connection.execute(delete(marks).where(marks.c.erased_at < moment - WINDOW_SECONDS))
            if rows:
                statement = insert(marks)
                connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=["key"], set_={"erased_at": statement.excluded.erased_at}
                    ),
                    rows,
                )

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
