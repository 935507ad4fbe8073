"""Admission control for conversation turns: fair under load, one turn per conversation.

Rasa runs every turn as a task on one event loop. Under load, a turn that waits for
I/O (a call to the action server, a database) goes to the back of a queue of every
other turn in progress, once per wait, so turns with custom actions took five times
longer than plain answers at 50 concurrent visitors. The gate lets at most `limit`
turns into Rasa at once and queues the rest first come, first served; a conversation's
own messages queue on a per-conversation lock first, so a visitor's burst of messages
never holds places other visitors wait for. This only orders work inside one process;
Rasa's lock store still serialises a conversation across replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from lotse.settings import load_settings


def configured_limit() -> int:
    """Turns at once (LOTSE_TURN_CONCURRENCY, `lotse.settings`)."""
    return load_settings().limits.turn_concurrency


class TurnGate:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None
        self._conversations: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, conversation_id: str) -> AsyncIterator[None]:
        if self._slots is None:  # created on first use, inside the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        lock, waiting = self._conversations.get(conversation_id, (asyncio.Lock(), 0))
        self._conversations[conversation_id] = (lock, waiting + 1)
        try:
            async with lock, self._slots:
                yield
        finally:
            lock, waiting = self._conversations[conversation_id]
            if waiting == 1:
                del self._conversations[conversation_id]
            else:
                self._conversations[conversation_id] = (lock, waiting - 1)

    @property
    def conversations_waiting(self) -> int:
        return len(self._conversations)
