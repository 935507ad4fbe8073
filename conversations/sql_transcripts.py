"""Transcripts in Rasa's SQL tracker store (the scaled profile), as the privacy
commands read and delete them.

The same mapping as the embedded store's `conversations.texts.SQLiteTexts`: conversation
id -> the conversation serialised as JSON (`{"sender_id": ..., "events": [...]}`), built
here from Rasa's `events` table (one row per event, in id order). Deleting a
conversation deletes its rows. Raises SQLAlchemy errors; a missing table (Rasa never
ran) reads as no conversations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, inspect, select
from sqlalchemy.engine import Engine

from lotse.database import writer

events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("data", Text),
)


class SqlTranscripts(MutableMapping[str, str]):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _exists(self) -> bool:
        return inspect(self.engine).has_table("events")

    def __getitem__(self, sender_id: str) -> str:
        if not self._exists():
            raise KeyError(sender_id)
        query = select(events.c.data).where(events.c.sender_id == sender_id).order_by(events.c.id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).scalars().all()
        if not rows:
            raise KeyError(sender_id)
        return json.dumps({"sender_id": sender_id, "events": [json.loads(r) for r in rows if r]})

    def __setitem__(self, sender_id: str, dialogue: str) -> None:
        raise TypeError("Rasa writes this tracker store; Lotse only reads and deletes")

    def __delitem__(self, sender_id: str) -> None:
        if not self._exists():
            raise KeyError(sender_id)
        with writer(self.engine).begin() as connection:
            deleted = connection.execute(delete(events).where(events.c.sender_id == sender_id))
        if not deleted.rowcount:
            raise KeyError(sender_id)

    def __contains__(self, sender_id: object) -> bool:
        if not isinstance(sender_id, str) or not self._exists():
            return False
        query = select(events.c.id).where(events.c.sender_id == sender_id).limit(1)
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def __iter__(self) -> Iterator[str]:
        if not self._exists():
            return iter([])
        with self.engine.connect() as connection:
            return iter(connection.execute(select(events.c.sender_id).distinct()).scalars().all())

    def __len__(self) -> int:
        return sum(1 for _ in self)
