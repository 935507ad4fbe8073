"""Rate limits that several processes share: token buckets in Redis.

The scale-out profile runs several Rasa replicas; a bucket in each process's memory
would let N replicas allow N times the rate. Here every `take` runs one Lua script on
the Redis server, atomically: it reads the key's tokens, refills them by the time passed
on the server's own clock (`TIME`: the replicas' clocks never disagree), takes one or
answers the wait, and lets the key expire once it would be full again (a forgotten key
is a full bucket, as in `lotse.rate_limit.TokenBucket`).

When Redis cannot be reached, the request goes ahead (0.0) and the log says so (the
error's type only): the limit protects the bot, and a conversation must not fail because
its counter is away; the lock store, on the same Redis, stops the turn loudly anyway.
Keys are the caller's ("chat <visitor id>"), stored under `prefix`; visitor ids and
addresses are no personal data beyond what the lock store holds, and expire.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lotse.rate_limit import Limit, TokenBucket

if TYPE_CHECKING:
    import redis

    from lotse.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 0.5

TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(held[1]), tonumber(held[2])
if tokens == nil or at == nil then tokens, at = burst, t end
tokens = math.min(burst, tokens + math.max(0, t - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(t))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tostring(wait)
"""


class RedisTokenBucket:
    """`TokenBucket`'s `take(key)` with the buckets in Redis, shared by every process
    that names the same `prefix`."""

    def __init__(self, limit: Limit, client: redis.Redis, prefix: str) -> None:
        self.limit = limit
        self._client = client
        self._prefix = prefix
        self._take: Any = client.register_script(TAKE)
        self._ttl_ms = max(1, int(limit.refill_seconds * 1000) + 1000)

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead, else the seconds until it could."""
        import redis

        try:
            limit = self.limit
            wait = self._take(keys=[f"{self._prefix}:{key}"],
                              args=[limit.per_second, limit.burst, self._ttl_ms])  # fmt: skip
        except redis.RedisError as error:
            log.warning("rate limit %s not counted: Redis failed (%s)", self._prefix,
                        type(error).__name__)  # fmt: skip
            return 0.0
        return float(wait)


def redis_bucket(limit: Limit, url: str, prefix: str) -> RedisTokenBucket:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS,
                                  socket_connect_timeout=TIMEOUT_SECONDS)  # fmt: skip
    return RedisTokenBucket(limit, client, prefix)


def rate_limiter(limit: Limit | None, settings: Settings,
                 name: str) -> TokenBucket | RedisTokenBucket | None:  # fmt: skip
    """The bucket of one limit (None: off): in this process's memory, or in Redis when
    LOTSE_RATE_STORE is "redis" (the scale-out profile), named `name` there."""
    if limit is None:
        return None
    if settings.limits.store == "redis":
        return redis_bucket(limit, settings.services.redis_url, f"lotse:rate:{name}")
    return TokenBucket(limit)
