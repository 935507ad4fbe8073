"""Every store that holds personal data, as the privacy commands and the console reach
them.

The CRM store, the handoff store and the messenger address book share one database
(LOTSE_DATABASE_URL), as do the conversation event log (`bot.event_log`, whose
conversation ids an erasure replaces) and the unanswered questions' texts
(`insights.unanswered`, erased with their conversations). Transcripts are in the
embedded tracker store's SQLite file (LOTSE_TRACKER_DB, `var/tracker.db` as `lotse
run` uses) or, in the scaled profile, in Rasa's SQL tracker store (LOTSE_TRACKER_URL,
`bot.sql_transcripts`). `texts` is None while that file does not exist and opens it
once it does: the console and the daily purge start next to Rasa, which may create it
only after them. The CRM store sends its changes to the configured CRM connectors
(`crm_adapter.crm_config`), so an erasure reaches them as it does from the bot.
Export, erasure and the retention purge all work on these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.channels.address_book import AddressBook
from bot.event_log import EventLog
from bot.sql_transcripts import SqlTranscripts
from bot.tracker_store import SQLiteTexts
from crm_adapter.crm_config import configured_names
from crm_adapter.store.engine import make_crm_engine
from crm_adapter.store.local import LocalCrm
from handoff.store import HandoffStore
from insights.unanswered import UnansweredQuestions
from lotse.settings import ROOT, load_settings


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
    _texts: SQLiteTexts | SqlTranscripts | None = field(default=None, init=False, repr=False)

    @property
    def texts(self) -> SQLiteTexts | SqlTranscripts | None:
        """The transcripts, or None while the tracker store's file does not exist."""
        if self._texts is None and self.tracker_url:
            self._texts = SqlTranscripts(make_crm_engine(self.tracker_url))
        if self._texts is None and self.tracker_db is not None and self.tracker_db.exists():
            self._texts = SQLiteTexts(str(self.tracker_db))
        return self._texts

    @classmethod
    def open(
        cls, database_url: str, tracker_db: Path | None, tracker_url: str | None = None
    ) -> PersonalStores:
        engine = make_crm_engine(database_url)
        handoffs = HandoffStore(engine)  # brings the shared schema up to date
        crm = LocalCrm(engine, connectors=configured_names())
        addresses, events = AddressBook(engine), EventLog(engine)
        unanswered = UnansweredQuestions(engine)
        return cls(engine, crm, handoffs, addresses, events, unanswered, tracker_db, tracker_url)

    @classmethod
    def configured(cls) -> PersonalStores:
        tracker_db = Path(os.environ.get("LOTSE_TRACKER_DB") or ROOT / "var" / "tracker.db")
        tracker_url = os.environ.get("LOTSE_TRACKER_URL") or None
        return cls.open(load_settings().database_url, tracker_db, tracker_url)
