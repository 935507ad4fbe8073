"""The embedded default tracker store: each conversation as one row in SQLite.

Rasa's own SQL tracker store keeps one row per event and, on every turn, queries and
rebuilds the conversation from its events and counts what is new; measured here it
took a third of the bot's throughput (41 against 64 messages per second at 50
visitors with the in-memory store). This store keeps Rasa's in-memory behaviour (the
whole conversation serialised as one JSON text, read and written once a turn) but
puts the texts in a SQLite table, so conversations survive a restart. WAL mode with
`synchronous=NORMAL`: a commit survives a crash of the process (not necessarily a
power cut) and costs no disk sync. One Rasa process per file; for several replicas,
configure Rasa's `type: SQL` on PostgreSQL.

A turn's tracker is handed on to the next turn of the same conversation
(`HELD_CONVERSATIONS` of them): Rasa rebuilds a conversation read back from its text by
replaying every event (measured here: a tenth of the Rasa process's CPU in a 20-message
conversation). The store keeps the tracker it saved with the text it wrote, and gives
that tracker back, once, when the stored text is still exactly that text (nobody
erased or rewrote the conversation meanwhile) and the tracker has no event that was not
saved; otherwise, and after a turn that failed before its save, it reads the text back
as Rasa does. Only a tracker of one session is kept: Rasa would hand on only the last
session of one that began a new session in its turn. A conversation's text is Rasa's
serialisation to the byte, but only the events a turn added are serialised anew; the
JSON of those before is kept while the tracker still begins with those very events.
"""

from __future__ import annotations

import json
import operator
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import (
    DialogueStateTracker,
    get_trackers_for_conversation_sessions,
)

from conversations.texts import SQLiteTexts

PUBLISHED_REMEMBERED = 10_000  # conversations whose published event count is kept
HELD_CONVERSATIONS = 256  # trackers kept for their conversation's next turn


@dataclass(frozen=True)
class _Held:
    text: str  # what was written for the tracker
    events: tuple[Event, ...]  # its events then
    parts: tuple[str, ...]  # each one's JSON in the text
    tracker: DialogueStateTracker


class SQLiteTrackerStore(InMemoryTrackerStore):
    """`tracker_store: {type: bot.tracker_store.SQLiteTrackerStore, db: PATH}`."""

    def __init__(
        self,
        domain: Domain | None = None,
        db: str = "var/tracker.db",
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain=domain, event_broker=event_broker, **kwargs)
        self.store = SQLiteTexts(db)  # type: ignore[assignment]
        self.published: OrderedDict[str, tuple[int, float | None]] = OrderedDict()
        self.saving: dict[str, tuple[int, float | None]] = {}  # published, not yet written
        self.held: OrderedDict[str, _Held] = OrderedDict()
        self.working: OrderedDict[str, _Held] = OrderedDict()  # handed on, not saved yet

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        """Another model's domain: trackers made for the last one are not handed on."""
        self._domain = domain or Domain.empty()
        self.held = OrderedDict()
        self.working = OrderedDict()

    def forget(self, sender_id: str) -> None:
        """Deletes the conversation and the tracker kept for its next turn."""
        self.held.pop(sender_id, None)
        self.working.pop(sender_id, None)
        self.store.pop(sender_id, None)

    async def _retrieve(
        self, sender_id: str, fetch_all_sessions: bool
    ) -> DialogueStateTracker | None:
        held = self.held.pop(sender_id, None)
        self.working.pop(sender_id, None)
        text = self.store.get(sender_id)
        if text is None:
            return None
        if held is not None and held.text == text and _unchanged(held):
            _bounded(self.working, sender_id, held)
            return held.tracker  # one session: the same for fetch_all_sessions
        tracker = self.deserialise_tracker(sender_id, text)
        if tracker is None or fetch_all_sessions:
            return tracker
        sessions = get_trackers_for_conversation_sessions(tracker)
        return tracker if len(sessions) <= 1 else sessions[-1]  # as Rasa's store does

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publishes the events new since the last save to the event broker (the event
        log, endpoints.yml). Rasa's own way reads the stored conversation back and
        rebuilds it every turn (measured: 14 ms for 200 events); this store remembers,
        per conversation, how many events it published and the first event's time, and
        falls back to Rasa's way when it does not know or the conversation is not the
        one it remembers (erased and begun anew, or shorter)."""
        if self.event_broker is None:
            return
        events = list(tracker.events)
        first = events[0].timestamp if events else None
        known = self.published.pop(tracker.sender_id, None)
        if known is not None and known[1] == first and known[0] <= len(events):
            await self._stream_new_events(self.event_broker, events[known[0] :], tracker.sender_id)
        else:
            await super().stream_events(tracker)
        self.saving[tracker.sender_id] = (len(events), first)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (publish, then write); the count of published events is kept
        only once the write succeeded, so after a failed save they are published anew
        (the event log ignores what it has)."""
        sender = tracker.sender_id
        self.saving.pop(sender, None)
        before = self.working.pop(sender, None) or self.held.pop(sender, None)
        await self.stream_events(tracker)
        events = tuple(tracker.events)
        parts = _parts(events, before if before and before.tracker is tracker else None)
        text = _dialogue(sender, parts)
        self.store[sender] = text
        saved = self.saving.pop(sender, None)
        if saved is not None:
            self.published[sender] = saved
            while len(self.published) > PUBLISHED_REMEMBERED:
                self.published.popitem(last=False)
        if _one_session(tracker):
            _bounded(self.held, sender, _Held(text, events, parts, tracker))


def _bounded(kept: OrderedDict[str, _Held], sender_id: str, held: _Held) -> None:
    kept[sender_id] = held
    while len(kept) > HELD_CONVERSATIONS:
        kept.popitem(last=False)


def _unchanged(held: _Held) -> bool:
    """The tracker has exactly the events it had when saved."""
    now = held.tracker.events
    return len(now) == len(held.events) and _begins_with(now, held.events)


def _begins_with(events: Sequence[Event], before: Sequence[Event]) -> bool:
    """The events begin with those very event objects."""
    return len(events) >= len(before) and all(map(operator.is_, events, before))


def _parts(events: tuple[Event, ...], before: _Held | None) -> tuple[str, ...]:
    """Each event's JSON; those of the last save's events kept when the tracker still
    begins with those very events (only what a turn added is serialised again)."""
    kept: tuple[str, ...] = ()
    if before is not None and _begins_with(events, before.events):
        kept = before.parts
    return kept + tuple(json.dumps(event.as_dict()) for event in events[len(kept) :])


def _dialogue(sender_id: str, parts: tuple[str, ...]) -> str:
    """Rasa's serialised tracker (`json.dumps(tracker.as_dialogue().as_dict())`), to the
    byte, from its events' JSON."""
    return '{"events": [' + ", ".join(parts) + '], "name": ' + json.dumps(sender_id) + "}"


def _one_session(tracker: DialogueStateTracker) -> bool:
    """No session starts after the first event (Rasa splits sessions there)."""
    return not any(
        isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME
        for n, event in enumerate(tracker.events)
        if n
    )
