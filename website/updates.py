"""What the chat widget hears while a person has the conversation: `/api/chat/updates`.

A long poll: the widget asks for the conversation's feed messages after the last id it
has (what staff wrote, the notices that someone joined or closed, the bot's words
after a hand-back or an unclaimed wait) and for the handoff's status (waiting with its
position and expected wait, or with a person). The request returns as soon as there is
something new, or after WAIT_SECONDS with the status alone. One watcher thread per
process reads the newest handoff event id every POLL_SECONDS and wakes the waiting
requests, so a hundred open widgets cost one small query per interval.

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
POLL_SECONDS = 0.1
FEED_GRACE = timedelta(seconds=30)
VISITOR_SENDERS = ("agent", "bot", "system")


class FeedWatcher:
    """Wakes waiting update requests when any handoff event is written."""

    def __init__(self, desk: Desk, poll_seconds: float = POLL_SECONDS) -> None:
        self.desk = desk
        self.latest = 0
        self._changed = threading.Condition()
        self._poll = poll_seconds
        self._thread = threading.Thread(target=self._watch, name="feed-watcher", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                latest = self.desk.store.latest_event_id()
            except Exception:  # noqa: BLE001 - the database may be restarting; try again
                latest = self.latest
            if latest != self.latest:
                with self._changed:
                    self.latest = latest
                    self._changed.notify_all()
            time.sleep(self._poll)

    def wait(self, seen: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.latest != seen, timeout)
            return self.latest

    def updates(
        self, conversation_id: str, after: int, wait: float = WAIT_SECONDS
    ) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        seen = self.latest
        while True:
            reply = self.snapshot(conversation_id, after)
            remaining = deadline - time.monotonic()
            if reply["messages"] or remaining <= 0:
                return reply
            seen = self.wait(seen, remaining)

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
