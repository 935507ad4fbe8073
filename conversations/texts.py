"""The embedded tracker store's texts: each conversation's serialised dialogue, one row
per conversation in a SQLite file (`bot.tracker_store.SQLiteTrackerStore` keeps Rasa's
trackers here; the privacy use cases read and delete them). WAL mode with
`synchronous=NORMAL` and `secure_delete` (an erased conversation leaves no bytes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, MutableMapping
from pathlib import Path

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA secure_delete=ON",  # an erased conversation leaves no bytes behind
)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS conversations (sender_id TEXT PRIMARY KEY, dialogue TEXT NOT NULL)"
)


class SQLiteTexts(MutableMapping[str, str]):
    """A dict of sender id -> serialised conversation, kept in a SQLite file."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Rasa calls the store from its event loop's thread only.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in PRAGMAS:
            self.db.execute(pragma)
        self.db.execute(SCHEMA)

    def __getitem__(self, sender_id: str) -> str:
        row = self.db.execute(
            "SELECT dialogue FROM conversations WHERE sender_id = ?", (sender_id,)
        ).fetchone()
        if row is None:
            raise KeyError(sender_id)
        return row[0]

    def __setitem__(self, sender_id: str, dialogue: str) -> None:
        self.db.execute(
            "INSERT INTO conversations (sender_id, dialogue) VALUES (?, ?) "
            "ON CONFLICT(sender_id) DO UPDATE SET dialogue = excluded.dialogue",
            (sender_id, dialogue),
        )

    def __delitem__(self, sender_id: str) -> None:
        self.db.execute("DELETE FROM conversations WHERE sender_id = ?", (sender_id,))

    def __contains__(self, sender_id: object) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM conversations WHERE sender_id = ?", (sender_id,)
        ).fetchone()
        return row is not None

    def __iter__(self) -> Iterator[str]:
        return iter([row[0] for row in self.db.execute("SELECT sender_id FROM conversations")])

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]
