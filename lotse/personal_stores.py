"""Every store that holds personal data, as the privacy commands reach them.

The CRM store, the handoff store and the messenger address book share one database
(LOTSE_DATABASE_URL); transcripts are in the embedded tracker store's SQLite file
(LOTSE_TRACKER_DB, `var/tracker.db` as `lotse run` uses; `texts` is None while that
file does not exist). Export, erasure and the retention purge all work on these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.channels.address_book import AddressBook
from bot.tracker_store import SQLiteTexts
from crm_adapter.store.engine import make_crm_engine
from crm_adapter.store.local import LocalCrm
from handoff.store import HandoffStore
from lotse.settings import ROOT, load_settings


@dataclass(frozen=True)
class PersonalStores:
    engine: Engine
    crm: LocalCrm
    handoffs: HandoffStore
    addresses: AddressBook
    texts: SQLiteTexts | None

    @classmethod
    def open(cls, database_url: str, tracker_db: Path) -> PersonalStores:
        engine = make_crm_engine(database_url)
        handoffs = HandoffStore(engine)  # brings the shared schema up to date
        texts = SQLiteTexts(str(tracker_db)) if tracker_db.exists() else None
        return cls(engine, LocalCrm(engine), handoffs, AddressBook(engine), texts)

    @classmethod
    def configured(cls) -> PersonalStores:
        tracker_db = Path(os.environ.get("LOTSE_TRACKER_DB") or ROOT / "var" / "tracker.db")
        return cls.open(load_settings().database_url, tracker_db)
