"""The composition root: one engine per database and process, the schema migrated once
when it is opened, every store and service built here and handed to whoever needs it.

`services()` is the process's `Services` for the configured database
(LOTSE_DATABASE_URL), built on first use; `services_for(url)` the same for another
database (a command pointed at a stack, a test). The entry points (the Rasa and action
servers, the console, the website, the commands) and Rasa's plug-ins, which Rasa
constructs itself, take their stores from here; no part below builds an engine or runs
a migration. `forget()` drops what was built (tests that change the settings).

Stores are built on first use (`cached_property`, which locks per property): the Rasa
process needs the address book and the handoff store, not the staff logins. All share
the one engine, so a process holds one connection pool per database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lotse.migrate import migrated_engine
from lotse.settings import Settings, load_settings

if TYPE_CHECKING:  # each part is imported when first built: a command loads what it uses
    from sqlalchemy.engine import Engine

    from conversations.address_book import AddressBook
    from conversations.channel_inbox import ChannelInbox
    from conversations.erased import ErasedConversations
    from crm_adapter.store import LocalCrm
    from handoff.auth import StaffAuth
    from handoff.bot_port import RasaBot
    from handoff.desk import Desk
    from handoff.store import HandoffStore
    from insights.event_log import EventLog
    from insights.unanswered import UnansweredQuestions
    from knowledge.answering import DocumentAnswerer
    from knowledge.library import IndexReport
    from knowledge.matching import Matcher
    from privacy.personal_stores import PersonalStores

log = logging.getLogger(__name__)
MAX_DATABASES = 4  # `services_for` keeps this many; the oldest is dropped (not disposed)


class Services:
    """Everything one process uses of one database. See the module docstring."""

    def __init__(self, database_url: str) -> None:
        self.settings = load_settings()
        self.database_url = database_url
        # Migrated once, here: the stores below assume the schema is current.
        self.engine: Engine = migrated_engine(database_url)

    @cached_property
    def crm(self) -> LocalCrm:
        from crm_adapter.crm_config import configured_names
        from crm_adapter.store import LocalCrm

        return LocalCrm(self.engine, connectors=configured_names())

    @cached_property
    def handoffs(self) -> HandoffStore:
        from crm_adapter.crm_config import configured_names
        from handoff.store import HandoffStore

        return HandoffStore(self.engine, configured_names())

    @cached_property
    def addresses(self) -> AddressBook:
        from conversations.address_book import AddressBook

        return AddressBook(self.engine)

    @cached_property
    def inbox(self) -> ChannelInbox:
        from conversations.channel_inbox import ChannelInbox

        return ChannelInbox(self.engine)

    @cached_property
    def event_log(self) -> EventLog:
        from insights.event_log import EventLog

        return EventLog(self.engine)

    @cached_property
    def erased(self) -> ErasedConversations:
        from conversations.erased import ErasedConversations

        return ErasedConversations(self.engine)

    @cached_property
    def unanswered(self) -> UnansweredQuestions:
        from insights.unanswered import UnansweredQuestions

        return UnansweredQuestions(self.engine)

    @cached_property
    def documents(self) -> DocumentAnswerer:
        """Answers from the company's documents (LOTSE_DOCUMENTS_DIR); the folder is
        indexed first, only what changed since (`lotse build` reports it)."""
        from knowledge.answering import DocumentAnswerer
        from knowledge.index import IndexError_, passage_index

        try:
            self.index_documents()
        except IndexError_ as error:  # another process indexing at this moment: it wins
            log.warning("indexing the documents failed (%s)", error)
        return DocumentAnswerer(passage_index(self.engine), self._matcher)

    def index_documents(self) -> IndexReport:
        """The documents' folder indexed into this database: only what changed."""
        from knowledge.index import passage_index
        from knowledge.library import index_documents

        folder = self.settings.files.documents_dir
        return index_documents(folder, passage_index(self.engine), self._matcher)

    @cached_property
    def _matcher(self) -> Matcher:
        from knowledge.library import vocabulary_file
        from knowledge.matching import load_matcher
        from knowledge.vocabulary import load_vocabulary

        folder = self.settings.files.documents_dir
        return load_matcher(load_vocabulary(vocabulary_file(folder)))

    @cached_property
    def staff(self) -> StaffAuth:
        from handoff.auth import StaffAuth

        return StaffAuth(self.engine)

    @cached_property
    def desk(self) -> Desk:
        from handoff.desk import Desk
        from handoff.routing_model import load_routing_model
        from handoff.texts import load_handoff_texts

        return Desk(
            self.handoffs,
            load_routing_model(),
            load_handoff_texts(),
            bot=rasa_bot(self.settings),
            clock=desk_clock(),
        )

    @cached_property
    def personal_stores(self) -> PersonalStores:
        """Every store with personal data (`privacy.personal_stores`): this database's,
        the transcripts' (LOTSE_TRACKER_DB, else LOTSE_TRACKER_URL) and the mail folder
        (LOTSE_MAIL_DIR), by default under `var/` as `lotse run` has them."""
        files = self.settings.files
        return self.personal_stores_with(files.tracker_db, files.tracker_url, files.mail_dir)

    def personal_stores_with(
        self, tracker_db: Path | None, tracker_url: str | None = None,
        mail_dir: Path | None = None,
    ) -> PersonalStores:  # fmt: skip
        """This database's stores with the given transcripts and mail folder."""
        from privacy.personal_stores import PersonalStores

        return PersonalStores(self.engine, self.crm, self.handoffs, self.addresses,
                              self.event_log, self.unanswered, tracker_db, tracker_url,
                              mail_dir, self.inbox)  # fmt: skip


_built: dict[str, Services] = {}
_lock = threading.Lock()


def services_for(database_url: str) -> Services:
    """The process's `Services` for the database at `database_url`, built once."""
    with _lock:
        found = _built.get(database_url)
        if found is None:
            found = _built[database_url] = Services(database_url)
            while len(_built) > MAX_DATABASES:
                _built.pop(next(iter(_built)))
        return found


_current: Services | None = None


def services() -> Services:
    """The process's `Services` for the configured database (LOTSE_DATABASE_URL): read
    once, then kept (the message path asks for it on every turn)."""
    global _current
    found = _current
    if found is None:
        found = _current = services_for(load_settings().database_url)
    return found


def forget() -> None:
    """Drops every `Services` built so far (tests that change the settings)."""
    global _current
    with _lock:
        _built.clear()
        _current = None


def rasa_bot(settings: Settings | None = None) -> RasaBot | None:
    """Rasa's HTTP API for hand-backs and timeouts, if a token for it is configured."""
    from handoff.bot_port import RasaBot

    s = settings or load_settings()
    return RasaBot(s.rasa_url, s.rasa_token) if s.rasa_token else None


def file_clock(path: Path) -> Callable[[], datetime]:
    """For tests of the running stack only: the file holds an ISO instant that was "now"
    when the file was written; time runs on from there. Rewriting the file moves the
    clock of every process (office hours, claim deadlines) at once."""

    def now() -> datetime:
        written = path.stat().st_mtime
        start = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
        return start + timedelta(seconds=time.time() - written)

    return now


def desk_clock() -> Callable[[], datetime]:
    from handoff.store import utc_now

    path = load_settings().files.test_clock_file
    return file_clock(path) if path else utc_now


def desk() -> Desk:
    """The handoff desk of the configured database."""
    return services().desk


def open_personal_stores(
    database_url: str,
    tracker_db: Path | None,
    tracker_url: str | None = None,
    mail_dir: Path | None = None,
) -> PersonalStores:
    """The personal stores of the database at `database_url` with the given transcripts
    and mail folder (the privacy commands pointed elsewhere, tests)."""
    return services_for(database_url).personal_stores_with(tracker_db, tracker_url, mail_dir)
