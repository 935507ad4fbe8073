"""Every store that holds personal data, as the privacy commands and the console reach
them.

The CRM store, the handoff store, the messenger address book and inbox share one database
(LOTSE_DATABASE_URL), as do the conversation event log (`insights.event_log`, whose
conversation ids an erasure replaces), the insights' summaries and the unanswered
questions' texts (`insights.unanswered`, erased with their conversations). Transcripts
are in the embedded tracker store's SQLite file (LOTSE_TRACKER_DB, `var/tracker.db` as
`lotse run` uses) or, in the scaled profile, in Rasa's SQL tracker store
(LOTSE_TRACKER_URL, `conversations.sql_transcripts`). `texts` is None while that file does not
exist and opens it once it does: the console and the daily purge start next to Rasa,
which may create it only after them. Without an SMTP server, notification emails are
files in the mail folder (LOTSE_MAIL_DIR, `var/mail` as `lotse run` sets it;
`handoff.notify.MailFolderSender`). The CRM store sends its changes to the configured
CRM connectors (`crm_adapter.crm_config`), so an erasure reaches them as it does from
the bot. Export, erasure and the retention purge all work on these. The composition
root builds them (`wiring.services`: `Services.personal_stores` from the settings,
`open_personal_stores` for another database); the transcripts' own database, Rasa's,
is opened here on first use.

`scrub()` runs after data was deleted, so that its bytes are gone from the files too:
- SQLite (both files): every connection runs with `secure_delete` (deleted content and
  freed pages are overwritten with zeros), but the pages as they were before stay in
  the write-ahead log (`-wal`) until a checkpoint copies the new ones into the database
  and the log is emptied. `PRAGMA wal_checkpoint(TRUNCATE)` does both; it waits (the
  busy timeout) for readers still on older pages. With `vacuum`, `VACUUM` first
  rebuilds the whole file (also pages freed by a connection without `secure_delete`),
  its temporary copy in memory. A file whose log a reader kept is named in the
  result (`Scrubbed.busy`): the next scrub (the daily purge) empties it.
- PostgreSQL (with `vacuum`): `VACUUM` of the database(s), which removes the dead row
  versions an erasure leaves and makes their space reusable. It does not overwrite
  that space: the bytes stay in the data files until new rows take it, and in
  PostgreSQL's own WAL and in backups until those are recycled; `VACUUM FULL` (an
  exclusive lock on every table) rewrites the files and is the operator's call.
  Tables the role does not own are skipped by PostgreSQL with a warning.
Raises SQLAlchemy or sqlite3 errors when a database is unreachable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine, make_url

from conversations.address_book import AddressBook
from conversations.channel_inbox import ChannelInbox
from conversations.sql_transcripts import SqlTranscripts
from conversations.texts import SQLiteTexts
from crm_adapter.store.local import LocalCrm
from handoff.notify import erase_mail_mentioning
from handoff.store import HandoffStore
from insights.event_log import EventLog
from insights.unanswered import UnansweredQuestions
from lotse.database import make_engine

SQLITE_BUSY_MS = 10_000


@dataclass(frozen=True)
class Scrubbed:
    databases: int  # SQLite files checkpointed, PostgreSQL databases vacuumed
    busy: tuple[str, ...] = ()  # SQLite files whose log a reader (or VACUUM a writer) kept


@dataclass
class PersonalStores:
    engine: Engine
    crm: LocalCrm
    handoffs: HandoffStore
    addresses: AddressBook
    events: EventLog
    unanswered: UnansweredQuestions  # what visitors asked the bot could not answer
    tracker_db: Path | None = None  # the embedded tracker store's file; None: no transcripts
    tracker_url: str | None = None  # Rasa's SQL tracker store (scaled profile), else None
    mail_dir: Path | None = None  # notification emails as files (no SMTP server), else None
    inbox: ChannelInbox | None = None  # messenger messages kept for their turn
    _texts: SQLiteTexts | SqlTranscripts | None = field(default=None, init=False, repr=False)

    @property
    def texts(self) -> SQLiteTexts | SqlTranscripts | None:
        """The transcripts, or None while the tracker store's file does not exist."""
        if self._texts is None and self.tracker_url:
            self._texts = SqlTranscripts(make_engine(self.tracker_url))
        if self._texts is None and self.tracker_db is not None and self.tracker_db.exists():
            self._texts = SQLiteTexts(str(self.tracker_db))
        return self._texts

    def erase_mail(self, texts: Collection[str], numbers: Collection[str]) -> int:
        """Deletes the mail folder's emails mentioning any of `texts` or `numbers`
        (`handoff.notify.erase_mail_mentioning`); returns how many."""
        if self.mail_dir is None:
            return 0
        return erase_mail_mentioning(self.mail_dir, texts, numbers)

    def scrub(self, vacuum: bool = False) -> Scrubbed:
        """After a deletion: its bytes out of the database files (module docstring)."""
        urls = [self.engine.url.render_as_string(hide_password=False)]
        if self.tracker_url:
            urls.append(self.tracker_url)
        files = [path for url in urls if (path := _sqlite_file(url)) is not None]
        if not self.tracker_url and self.tracker_db is not None:
            files.append(self.tracker_db)
        files = list(dict.fromkeys(path.resolve() for path in files if path.exists()))
        busy = []
        for path in files:
            if not _scrub_sqlite(path, vacuum):
                busy.append(path.name)
        postgres = {_server_database(u): u for u in urls if _backend(u) == "postgresql"}
        if vacuum:
            for url in postgres.values():
                _vacuum_postgres(url)
        return Scrubbed(len(files) + (len(postgres) if vacuum else 0), tuple(busy))


def _backend(url: str) -> str:
    return make_url(url).get_backend_name()


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _server_database(url: str) -> tuple[str | None, int | None, str | None]:
    parsed = make_url(url)
    return (parsed.host, parsed.port, parsed.database)


def _scrub_sqlite(path: Path, vacuum: bool) -> bool:
    """VACUUM (if asked) and a truncating checkpoint of the SQLite file at `path`, on a
    connection of its own (outside any pool and transaction); False if a writer kept
    the database (no VACUUM) or a reader the write-ahead log longer than the busy
    timeout."""
    db = sqlite3.connect(str(path), isolation_level=None, timeout=SQLITE_BUSY_MS / 1000)
    vacuumed = True
    try:
        db.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        db.execute("PRAGMA secure_delete=ON")
        if vacuum:
            db.execute("PRAGMA temp_store=MEMORY")  # no copy of the data in a temp file
            try:
                db.execute("VACUUM")
            except sqlite3.OperationalError:  # "database is locked": the next scrub's turn
                vacuumed = False
        busy, _log, _checkpointed = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0 and vacuumed
    finally:
        db.close()


def _vacuum_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
    finally:
        engine.dispose()
