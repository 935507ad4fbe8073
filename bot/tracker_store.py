"""The embedded default tracker store: Rasa's SQL tracker store on SQLite, in WAL mode.

SQLite's default journal syncs the disk several times per commit, and Rasa commits
every turn; with `journal_mode=WAL` and `synchronous=NORMAL` a commit survives a
crash of the process (not necessarily a power cut) and costs no disk sync, which
keeps the turn fast. For scale-out, configure Rasa's own `type: SQL` on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy import event

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")


def _set_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


class SQLiteTrackerStore(SQLTrackerStore):
    """`tracker_store: {type: bot.tracker_store.SQLiteTrackerStore, db: PATH}`."""

    def __init__(
        self,
        domain: Domain | None = None,
        db: str = "var/tracker.db",
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("dialect", None)
        super().__init__(
            domain=domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs
        )
        event.listen(self.engine, "connect", _set_pragmas)
        self.engine.dispose()  # connections opened before the listener are dropped
