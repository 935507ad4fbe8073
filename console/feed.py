"""The change feed: wakes every waiting console stream when the handoff store changes.

One poller per process reads the newest `handoff_events` id (a cheap indexed MAX) every
POLL_SECONDS and wakes all waiters; so with any number of open consoles the database
sees one query per interval, and a change made by any replica reaches every console
within about one interval. While no stream waits, it polls every IDLE_POLL_SECONDS
only (a console process with nobody watching spent 6 % of a core on polling), and a
stream that starts to wait wakes it at once: its first look is as fresh as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

POLL_SECONDS = 0.05
IDLE_POLL_SECONDS = 1.0
log = logging.getLogger(__name__)


class ChangeFeed:
    def __init__(
        self,
        latest: Callable[[], int],
        poll_seconds: float = POLL_SECONDS,
        idle_seconds: float = IDLE_POLL_SECONDS,
    ) -> None:
        self._latest = latest
        self._poll = poll_seconds
        self._idle = idle_seconds
        self.current = 0
        self._changed = asyncio.Condition()
        self._waiting = 0
        self._wanted = asyncio.Event()  # set when a stream starts to wait

    async def run(self) -> None:
        """Polls until cancelled; a database error is logged and retried."""
        while True:
            try:
                latest = await asyncio.to_thread(self._latest)
            except Exception:
                log.exception("change feed: could not read the handoff events")
                latest = self.current
            if latest != self.current:
                self.current = latest
                async with self._changed:
                    self._changed.notify_all()
            await self._pause()

    async def _pause(self) -> None:
        """POLL_SECONDS while a stream waits; else until one does, at most the idle time."""
        if self._waiting:
            await asyncio.sleep(self._poll)
            return
        self._wanted.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wanted.wait(), self._idle)

    async def wait(self, after: int, timeout: float) -> int:
        """The newest event id once it is past `after`, or the current one after `timeout`."""
        if self.current > after:
            return self.current
        self._waiting += 1
        self._wanted.set()
        try:
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.current > after), timeout
                )
        except asyncio.TimeoutError:
            pass
        finally:
            self._waiting -= 1
        return self.current


async def wait_either(
    first: tuple[ChangeFeed, int], second: tuple[ChangeFeed, int], timeout: float
) -> tuple[int, int]:
    """The current ids of both feeds once either is past its given id, or after
    `timeout` (the console's stream waits on the handoff events and on typing)."""
    waits = [asyncio.ensure_future(feed.wait(after, timeout)) for feed, after in (first, second)]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    return first[0].current, second[0].current
