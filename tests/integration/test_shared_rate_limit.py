"""Rate limits shared through Redis (`lotse.shared_rate_limit`): two processes with the
same limit allow it once between them, not once each, as the Rasa replicas of the
scale-out profile must; Redis away lets messages through and says so in the log.
Runs against the Redis on this machine (127.0.0.1:6379)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid

import redis

from lotse.rate_limit import Limit, TokenBucket
from lotse.settings import load_settings
from lotse.shared_rate_limit import RedisTokenBucket, rate_limiter, redis_bucket
from tests.support.console_client import free_port

REDIS_URL = "redis://127.0.0.1:6379/1"
# One process: the conversations' limiter as the Rasa replicas build it, from the
# settings (LOTSE_RATE_STORE=redis), taking tokens for one conversation.
REPLICA = """
import json, sys
from lotse.settings import load_settings
from lotse.shared_rate_limit import rate_limiter
settings = load_settings()
limiter = rate_limiter(settings.limits.per_conversation, settings, "conversation")
sys.stdin.readline()  # both processes start taking at once
print(json.dumps([limiter.take(sys.argv[1]) for _ in range(int(sys.argv[2]))]))
"""


def _replicas(key: str, takes: int, store: str) -> list[list[float]]:
    env = {**os.environ, "LOTSE_RATE_STORE": store,
           "LOTSE_RATE_CONVERSATION": "1/hour burst 5", "LOTSE_REDIS_HOST": "127.0.0.1",
           "LOTSE_REDIS_PORT": "6379", "LOTSE_REDIS_DB": "1"}  # fmt: skip
    started = [subprocess.Popen([sys.executable, "-c", REPLICA, key, str(takes)], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(2)]  # fmt: skip
    for process in started:
        process.stdin.write("go\n")
        process.stdin.flush()
    return [json.loads(process.communicate(timeout=60)[0]) for process in started]


def test_two_replicas_share_one_limit() -> None:
    key = f"test-{uuid.uuid4().hex}"
    waits = _replicas(key, takes=5, store="redis")
    allowed = sum(wait == 0.0 for each in waits for wait in each)
    assert allowed == 5  # the burst, once between both
    refused = [wait for each in waits for wait in each if wait > 0]
    assert len(refused) == 5 and all(600 < wait <= 3600 for wait in refused)


def test_in_memory_each_process_counts_alone() -> None:
    """What the scale-out profile had before: each replica its own burst."""
    key = f"test-{uuid.uuid4().hex}"
    waits = _replicas(key, takes=5, store="memory")
    assert sum(wait == 0.0 for each in waits for wait in each) == 10


def test_a_bucket_refills_on_the_servers_clock_and_keys_expire() -> None:
    bucket = redis_bucket(Limit(per_second=1000.0, burst=2), REDIS_URL, "lotse:test")
    key = f"test-{uuid.uuid4().hex}"
    assert [bucket.take(key) > 0 for _ in range(3)] == [False, False, True]
    time.sleep(0.01)  # 10 ms at 1000 a second: full again
    assert bucket.take(key) == 0.0

    ttl = redis.Redis.from_url(REDIS_URL).pttl(f"lotse:test:{key}")
    assert 0 < ttl <= 1002 + 1000  # gone once it would be full again (plus a second)


def test_redis_away_lets_messages_through_and_logs_it(caplog) -> None:
    away = redis_bucket(Limit(1.0, 1), f"redis://127.0.0.1:{free_port()}/0", "lotse:test")
    with caplog.at_level(logging.WARNING):
        assert [away.take("visitor-1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert "Redis failed (ConnectionError)" in caplog.text
    assert "visitor-1" not in caplog.text


def test_the_settings_choose_the_store() -> None:
    limit = Limit(1.0, 3)
    memory = load_settings({})
    assert isinstance(rate_limiter(limit, memory, "ip"), TokenBucket)
    shared = load_settings({"LOTSE_RATE_STORE": "redis"})
    assert isinstance(rate_limiter(limit, shared, "ip"), RedisTokenBucket)
    assert rate_limiter(None, shared, "ip") is None
