"""What the chat widget hears while a person has the conversation: `/api/chat/updates`.

A long poll: the widget asks for the conversation's feed messages after the last id it
has (what staff wrote, the notices that someone joined or closed, the bot's words
after a hand-back or an unclaimed wait) and for the handoff's status (waiting with its
position and expected wait, or with a person). The request returns as soon as there is
something new, or after WAIT_SECONDS with the status alone. One watcher thread per
process reads the new handoff events every POLL_SECONDS and wakes only the requests of
the conversations they belong to: a hundred open widgets cost one small query per
interval, and a widget reads the store only when its own conversation changed. While
no request waits, the watcher looks every IDLE_POLL_SECONDS only (a website process
with no widget waiting spent 4 % of a core on polling), and a request that starts to
wait wakes it at once.

It also tells whether the agent is typing (`handoff.typing_indicator`): the watcher
reads the typing rows written since its last look every few rounds, and a request
also returns when the agent's typing differs from what the widget shows (`typing`),
or when the typing it reported runs out. `visitor_typing` records the visitor's own.

`FeedWatcher.updates` is a coroutine: a waiting request holds no thread, only a future
the watcher thread resolves on the request's own event loop; the store is read in a
thread (`asyncio.to_thread`). Store errors (SQLAlchemyError) reach the caller.

The conversation id is the only key: it is the widget's random id, known only to that
browser. Message texts are personal data and never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from handoff.desk import Desk
from handoff.ownership import HUMAN, WAITING

WAIT_SECONDS = 20.0
POLL_SECONDS = 0.05
IDLE_POLL_SECONDS = 1.0
TYPING_EVERY_ROUNDS = 4  # who types: every 0.2 s
FEED_GRACE = timedelta(seconds=30)
VISITOR_SENDERS = ("agent", "bot", "system")

Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FeedWatcher:
    """Wakes a waiting update request when an event of its own conversation is written."""

    def __init__(
        self,
        desk: Desk,
        poll_seconds: float = POLL_SECONDS,
        idle_seconds: float = IDLE_POLL_SECONDS,
    ) -> None:
        self.desk = desk
        self.latest = desk.store.latest_event_id()
        self.latest_typing = desk.typing.latest_id()
        self._waiting: dict[str, set[Waiter]] = {}  # conversation id -> its open requests
        self._lock = threading.Lock()
        self._poll = poll_seconds
        self._idle = idle_seconds
        self._stopped = threading.Event()
        self._wanted = threading.Event()  # set when a request starts to wait
        self._thread = threading.Thread(target=self._watch, name="feed-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the watcher thread (waiting requests then wait out their time)."""
        self._stopped.set()
        self._wanted.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        rounds = 0
        while not self._stopped.is_set():
            rounds += 1
            try:
                fresh = self.desk.store.changed_since(self.latest)
                typed = []  # typing need not be as quick as a message; a MAX first
                if rounds % TYPING_EVERY_ROUNDS == 0 and (
                    self.desk.typing.latest_id() > self.latest_typing
                ):
                    typed = self.desk.typing.changed_since(self.latest_typing)
            except Exception:  # noqa: BLE001 - the database may be restarting; try again
                fresh, typed = [], []
            if fresh:
                self.latest = fresh[-1][0]
            if typed:
                self.latest_typing = typed[-1][0]
            if fresh or typed:
                self._wake({conversation for _, conversation in fresh + typed})
            self._pause()

    def _pause(self) -> None:
        """POLL_SECONDS while a request waits; else until one does (or the idle time)."""
        if self.waiting():
            self._stopped.wait(self._poll)
            return
        self._wanted.clear()
        if not self.waiting():  # one that came since the look above is not missed
            self._wanted.wait(self._idle)

    def _wake(self, conversations: Iterable[str]) -> None:
        with self._lock:
            woken = [w for c in conversations for w in self._waiting.get(c, ())]
        for loop, future in woken:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve, future)

    def waiting(self) -> int:
        """How many requests wait for news now."""
        with self._lock:
            return sum(len(waiters) for waiters in self._waiting.values())

    def _listen(self, conversation_id: str, waiter: Waiter) -> None:
        with self._lock:
            self._waiting.setdefault(conversation_id, set()).add(waiter)
        self._wanted.set()

    def _stop_listening(self, conversation_id: str, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiting.get(conversation_id, set())
            waiters.discard(waiter)
            if not waiters:
                self._waiting.pop(conversation_id, None)

    async def updates(
        self, conversation_id: str, after: int, wait: float = WAIT_SECONDS, typing: bool = False
    ) -> dict[str, Any]:
        """What is new for the visitor; waits up to `wait` seconds for something to be.
        `typing`: whether the widget shows the agent typing now (a change returns)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            # Listening before reading: an event written meanwhile still wakes us.
            waiter: Waiter = (loop, loop.create_future())
            self._listen(conversation_id, waiter)
            try:
                reply = await asyncio.to_thread(self.snapshot, conversation_id, after)
                remaining = deadline - loop.time()
                agent_typing = reply["typing"]["agent"]
                if reply["messages"] or remaining <= 0 or agent_typing != typing:
                    return reply
                if agent_typing:  # wake when it runs out, to say so
                    remaining = min(remaining, reply["typing"]["seconds"] + 0.05)
                await asyncio.wait([waiter[1]], timeout=remaining)
            finally:
                self._stop_listening(conversation_id, waiter)

    async def visitor_typing(self, conversation_id: str, typing: bool) -> bool:
        """Records that the visitor types (or stopped); False without an open handoff."""
        return await asyncio.to_thread(self.desk.visitor_typing, conversation_id, typing)

    def snapshot(self, conversation_id: str, after: int) -> dict[str, Any]:
        """The feed after `after` and the handoff's status (blocking: reads the store)."""
        store = self.desk.store
        messages = store.messages(conversation_id, after, VISITOR_SENDERS)
        handoff = store.latest(conversation_id)
        status: dict[str, Any] = {"state": "bot", "feed_open": False}
        typing: dict[str, Any] = {"agent": False, "seconds": 0.0}
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
            # With news the agent's typing is not asked: their message ended it, and
            # the widget's next poll (typing=0) hears at once if they type on.
            if handoff.state == HUMAN and not messages:
                now = self.desk.clock()
                until = self.desk.typing.state(handoff.id, now).agent
                if until is not None:
                    typing = {"agent": True, "seconds": round((until - now).total_seconds(), 2)}
        return {
            "messages": [
                {"id": m.id, "from": m.sender, "author": m.author_label, "text": m.text,
                 "buttons": m.buttons or []}
                for m in messages
            ],
            "last_id": messages[-1].id if messages else after,
            "status": status,
            "typing": typing,
        }  # fmt: skip
