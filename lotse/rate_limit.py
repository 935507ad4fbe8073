"""Rate limits: token buckets keyed by a string (a visitor id, an IP, a conversation).

A bucket holds up to `burst` tokens and gains `per_second` tokens a second; a request
takes one or is refused with the seconds until one is back. Memory is bounded: a key
idle long enough to have refilled is forgotten (the same as a full bucket), and past
`max_keys` the least recently used key is dropped (it starts again with a full burst).
Thread-safe; the clock is injectable. Plain Python, no HTTP.

Limits are configured as "N/second", "N/minute" or "N/hour", optionally with
" burst B" ("30/minute burst 10"), or "off" (`parse_limit`; `lotse.settings` reads the
LOTSE_RATE_* variables with it).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

MAX_KEYS = 100_000
_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour)\s*(?:burst\s*(\d+))?\s*", re.ASCII)


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int

    @property
    def refill_seconds(self) -> float:
        """How long an empty bucket takes to be full again."""
        return self.burst / self.per_second


def per_minute(count: int, burst: int) -> Limit:
    return Limit(count / 60.0, burst)


def parse_limit(raw: str, default_burst: int) -> Limit | None:
    """A limit from its text: "30/minute" is 30 a minute with `default_burst` (at most
    30), "30/minute burst 5" sets the burst, "off" is None. ValueError otherwise."""
    if raw.strip().lower() == "off":
        return None
    shape = _LIMIT.fullmatch(raw.lower())
    if shape is None:
        raise ValueError(raw)
    count, unit, burst = int(shape[1]), shape[2], shape[3]
    if count < 1 or (burst is not None and int(burst) < 1):
        raise ValueError(raw)
    return Limit(count / _UNITS[unit], int(burst) if burst else min(default_burst, count))


class Bucket(Protocol):
    """What a rate limit asks: `TokenBucket` here, or the shared one in Redis
    (`lotse.shared_rate_limit.RedisTokenBucket`)."""

    def take(self, key: str) -> float: ...


class TokenBucket:
    """One bucket per key, all with the same limit, in this process's memory."""

    def __init__(
        self,
        limit: Limit,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        # key -> (tokens, when they were counted); least recently used first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)

    def take(self, key: str) -> float:
        """Takes a token for `key`: 0.0 when the request may go ahead, otherwise the
        seconds until it could (nothing taken)."""
        with self._lock:
            now = self._clock()
            self._forget_idle(now)
            tokens, counted = self._buckets.pop(key, (float(self.limit.burst), now))
            refilled = tokens + max(0.0, now - counted) * self.limit.per_second
            tokens = min(float(self.limit.burst), refilled)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.limit.per_second
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return wait

    def _forget_idle(self, now: float) -> None:
        # Ordered by last use: the front is the idlest. A key unused for a whole refill
        # time has a full bucket, which is what an unknown key gets.
        while self._buckets:
            _, counted = next(iter(self._buckets.values()))
            if now - counted < self.limit.refill_seconds:
                return
            self._buckets.popitem(last=False)
