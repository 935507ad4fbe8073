"""A tracker store failure is retried, then raised: never answered from memory.

Rasa 3.6 wraps every tracker store in `FailSafeTrackerStore`: when the database fails,
`save` writes the conversation to an in-memory store of that one process (gone at the
next restart, unseen by the other replicas) and `retrieve` returns None, so the bot
takes a known visitor for a new one and answers without their conversation. Both
happen with one line in the log.

`LoudTrackerStore` replaces it (`install()`, called where Lotse starts the Rasa server,
`bot/rasa_server.py`): each call is tried ATTEMPTS times with a short pause (a
database restart or a dropped pooled connection is usually over by then; SQLAlchemy
replaces a connection that failed), then `TrackerStoreUnavailable` is raised. The
turn fails: the REST channel answers 503 and the website widget shows its "try again"
line (the visitor sends the message again), a messenger visitor is asked to send the
message again (`bot/channels/messenger.py`), and the log says which store failed
(without the conversation's content).

A turn in which the visitor had everything about them erased (the `erased` slot, set
by `action_erase_everything`) deletes the conversation instead of saving it: the
transcript must not come back with the save that ends the erasing turn. So does a turn
that was running while the command or the console erased the conversation
(`conversations.erased`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from rasa.core.agent import Agent
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import SQLiteTrackerStore
from conversations.erased import ErasedConversations
from wiring.services import services

ATTEMPTS = 3
# Set by the action that erases everything about the visitor (bot/actions/privacy.py):
# the conversation is then deleted at the end of its turn instead of saved.
ERASED_SLOT = "erased"
PAUSE_SECONDS = 0.5
T = TypeVar("T")
log = logging.getLogger(__name__)


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store failed ATTEMPTS times in a row."""


class LoudTrackerStore(FailSafeTrackerStore):
    def __init__(self, tracker_store: TrackerStore, pause_seconds: float = PAUSE_SECONDS) -> None:
        super().__init__(tracker_store)
        self.pause_seconds = pause_seconds

    async def _tried(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        store = type(self._tracker_store).__name__
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await call()
            except Exception as error:  # noqa: BLE001 - any driver error: retry, then raise
                if attempt == ATTEMPTS:
                    log.error("%s: %s failed %d times (%s); the turn fails",
                              store, what, ATTEMPTS, type(error).__name__)  # fmt: skip
                    raise TrackerStoreUnavailable(f"{store}: {what} failed") from error
                log.warning("%s: %s failed (%s); trying again", store, what,
                            type(error).__name__)  # fmt: skip
                await asyncio.sleep(self.pause_seconds * attempt)
        raise AssertionError("unreachable")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tried("retrieve", lambda: self._tracker_store.retrieve(sender_id))

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tried(
            "retrieve", lambda: self._tracker_store.retrieve_full_tracker(sender_id)
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender = tracker.sender_id
        if tracker.get_slot(ERASED_SLOT) or await self._tried(
            "erasure check", lambda: _erased_now(sender)
        ):
            # Erased in this turn (the chat's button) or while it ran (the command, the
            # console): deleted, not written back.
            await self._tried("erase", lambda: forget(self._tracker_store, sender))
            return
        await self._tried("save", lambda: self._tracker_store.save(tracker))

    async def keys(self) -> Iterable[str]:
        return await self._tried("keys", self._tracker_store.keys)


def erased_conversations() -> ErasedConversations:
    return services().erased


async def _erased_now(sender_id: str) -> bool:
    found = await asyncio.to_thread(erased_conversations().recent, [sender_id])
    return bool(found)


async def forget(store: TrackerStore, sender_id: str) -> None:
    """Deletes a conversation from Rasa's SQL store or an in-memory-like one (Lotse's
    SQLite store keeps its conversations in `store`, a mapping)."""
    if isinstance(store, SQLTrackerStore):
        with store.session_scope() as session:
            session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender_id).delete()
            session.commit()
    elif isinstance(store, SQLiteTrackerStore):
        store.forget(sender_id)
    elif isinstance(store, InMemoryTrackerStore):
        store.store.pop(sender_id, None)
    else:
        raise TypeError(f"cannot erase a conversation from {type(store).__name__}")


def _create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """Agent._create_tracker_store, with LoudTrackerStore for FailSafeTrackerStore."""
    if store is None:
        return LoudTrackerStore(InMemoryTrackerStore(domain))
    store.domain = domain
    return LoudTrackerStore(store)


def install() -> None:
    """Makes every Rasa agent of this process use LoudTrackerStore."""
    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[method-assign]
