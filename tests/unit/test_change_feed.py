"""The console's change feed: quick while a stream waits, slow while nobody does."""

from __future__ import annotations

import asyncio
import time

from console.feed import ChangeFeed


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.value


def test_nobody_waiting_the_feed_looks_only_at_the_idle_pace() -> None:
    latest = Counter()

    async def scenario() -> None:
        feed = ChangeFeed(latest, poll_seconds=0.01, idle_seconds=0.5)
        task = asyncio.ensure_future(feed.run())
        await asyncio.sleep(0.3)
        task.cancel()

    asyncio.run(scenario())
    assert 1 <= latest.reads <= 2  # at 0.01 s it would be about 30


def test_a_stream_that_starts_to_wait_hears_a_change_at_once() -> None:
    """The feed idles for a minute; a waiting stream wakes it, and a change written
    while it waits reaches it within the quick pace."""
    latest = Counter()

    async def scenario() -> tuple[int, float, int]:
        feed = ChangeFeed(latest, poll_seconds=0.01, idle_seconds=60)
        task = asyncio.ensure_future(feed.run())
        await asyncio.sleep(0.05)  # idle now
        latest.value = 7  # written while nobody watched
        started = time.monotonic()
        seen = await feed.wait(0, timeout=5)
        waited = time.monotonic() - started
        latest.value = 8

        async def write_later() -> None:
            await asyncio.sleep(0.1)
            latest.value = 9

        writer = asyncio.ensure_future(write_later())
        later = await feed.wait(8, timeout=5)
        await writer
        task.cancel()
        return seen, waited, later

    seen, waited, later = asyncio.run(scenario())
    assert seen == 7 and waited < 1.0
    assert later == 9


def test_a_wait_without_change_ends_at_its_timeout() -> None:
    latest = Counter()

    async def scenario() -> int:
        feed = ChangeFeed(latest, poll_seconds=0.01, idle_seconds=60)
        task = asyncio.ensure_future(feed.run())
        result = await feed.wait(0, timeout=0.2)
        task.cancel()
        return result

    assert asyncio.run(scenario()) == 0
    assert latest.reads >= 5  # quick pace while the stream waited
