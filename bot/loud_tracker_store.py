"""A tracker store failure is retried, then raised: never answered from memory.

Rasa 3.6 wraps every tracker store in `FailSafeTrackerStore`: when the database fails,
`save` writes the conversation to an in-memory store of that one process (gone at the
next restart, unseen by the other replicas) and `retrieve` returns None, so the bot
takes a known visitor for a new one and answers without their conversation. Both
happen with one line in the log.

`LoudTrackerStore` replaces it (`install()`, called where Lotse starts the Rasa server,
`lotse/rasa_server.py`): each call is tried ATTEMPTS times with a short pause (a
database restart or a dropped pooled connection is usually over by then; SQLAlchemy
replaces a connection that failed), then `TrackerStoreUnavailable` is raised. The
turn fails: the website widget shows its "try again" message and the visitor's text
is still in the box, messenger platforms get an error answer and send the update
again, and the log says which store failed (without the conversation's content).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

ATTEMPTS = 3
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
        await self._tried("save", lambda: self._tracker_store.save(tracker))

    async def keys(self) -> Iterable[str]:
        return await self._tried("keys", self._tracker_store.keys)


def _create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """Agent._create_tracker_store, with LoudTrackerStore for FailSafeTrackerStore."""
    from rasa.core.tracker_store import InMemoryTrackerStore

    if store is None:
        return LoudTrackerStore(InMemoryTrackerStore(domain))
    store.domain = domain
    return LoudTrackerStore(store)


def install() -> None:
    """Makes every Rasa agent of this process use LoudTrackerStore."""
    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[method-assign]
