"""What the chat widget hears while a person has the conversation: `/api/chat/updates`.

A long poll: the widget asks for the conversation's feed messages after the last id it
has (what staff wrote, the notices that someone joined or closed, the bot's words
after a hand-back or an unclaimed wait) and for the handoff's status (waiting with its
position and expected wait, or with a person). The request returns as soon as there is
something new, or after WAIT_SECONDS with the status alone. One watcher thread per
process reads the new handoff events every POLL_SECONDS and wakes only the requests of
the conversations they belong to: a hundred open widgets cost one small query per
interval, and a widget reads the store only when its own conversation changed.

The conversation id is the only key: it is the widget's random id, known only to that
browser. Message texts are personal data and never logged.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from handoff.desk import Desk
from handoff.ownership import WAITING

WAIT_SECONDS = 20.0
POLL_SECONDS = 0.05
FEED_GRACE = timedelta(seconds=30)
MAX_TRACKED = 10_000  # conversations whose newest event the watcher remembers
VISITOR_SENDERS = ("agent", "bot", "system")


class FeedWatcher:
    """Wakes a waiting update request when an event of its own conversation is written."""

    def __init__(self, desk: Desk, poll_seconds: float = POLL_SECONDS) -> None:
        self.desk = desk
        self.latest = desk.store.latest_event_id()
        self._last_change: dict[str, int] = {}  # conversation id -> its newest event id
        self._changed = threading.Condition()
        self._poll = poll_seconds
        self._thread = threading.Thread(target=self._watch, name="feed-watcher", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                fresh = self.desk.store.changed_since(self.latest)
            except Exception:  # noqa: BLE001 - the database may be restarting; try again
                fresh = []
            if fresh:
                with self._changed:
                    for event_id, conversation in fresh:
                        self._last_change[conversation] = event_id
                    self.latest = fresh[-1][0]
                    if len(self._last_change) > MAX_TRACKED:
                        self._forget_oldest()
                    self._changed.notify_all()
            time.sleep(self._poll)

    def _forget_oldest(self) -> None:
        keep = sorted(self._last_change.items(), key=lambda item: item[1])[-MAX_TRACKED // 2 :]
        self._last_change = dict(keep)

    def changed(self, conversation_id: str) -> int:
        return self._last_change.get(conversation_id, 0)

    def updates(
        self, conversation_id: str, after: int, wait: float = WAIT_SECONDS
    ) -> dict[str, Any]:
        """What is new for the visitor; waits up to `wait` seconds for something to be."""
        deadline = time.monotonic() + wait
        with self._changed:
            seen = self.changed(conversation_id)
        while True:
            reply = self.snapshot(conversation_id, after)
            remaining = deadline - time.monotonic()
            if reply["messages"] or remaining <= 0:
                return reply
            seen = self._wait(conversation_id, seen, remaining)

    def _wait(self, conversation_id: str, seen: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.changed(conversation_id) != seen, timeout)
            return self.changed(conversation_id)

    def snapshot(self, conversation_id: str, after: int) -> dict[str, Any]:
        store = self.desk.store
        messages = store.messages(conversation_id, after, VISITOR_SENDERS)
        handoff = store.latest(conversation_id)
        status: dict[str, Any] = {"state": "bot", "feed_open": False}
        if handoff is not None:
            language = handoff.language
            status = {
                "state": handoff.state,
                "person": self.desk.person_label(handoff.assignee, language),
                "team": self.desk.team_label(handoff.team, language),
                "feed_open": handoff.closed_at is None
                or self.desk.clock() - handoff.closed_at < FEED_GRACE,
            }
            if handoff.state == WAITING:
                queued = self.desk.queued(handoff)
                status.update(position=queued.position, minutes=queued.minutes)
        return {
            "messages": [
                {"id": m.id, "from": m.sender, "author": m.author_label, "text": m.text,
                 "buttons": m.buttons or []}
                for m in messages
            ],
            "last_id": messages[-1].id if messages else after,
            "status": status,
        }  # fmt: skip
