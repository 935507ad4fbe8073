"""The Redis lock store (bot/lock_store.py) against the real Redis on this machine.

Two "replicas" (two lock stores, two Redis connections, two threads) take one
conversation's lock for many messages. Each replica's reads are slowed down, as on a
loaded machine: with Rasa 3.6's `RedisLockStore` two replicas then hold the lock at
once (the first test shows the gap), with `AtomicRedisLockStore` never; its lock keeps
Rasa's format, so Rasa's own waiting loop reads it. Skipped, naming the URL, only when
no Redis answers (LOTSE_TEST_REDIS_URL, default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from typing import Any

import pytest
import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore
from tests.support.concurrency import run_together

REDIS_URL = os.environ.get("LOTSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MESSAGES = 8  # per replica
# Rasa's racy store can lose a ticket; the replica waiting for it then waits until the
# ticket expires. A short lifetime keeps that within the race test's deadline.
LIFETIME = 3


@pytest.fixture(scope="module")
def redis_db() -> dict[str, Any]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (set LOTSE_TEST_REDIS_URL)")
    client.flushdb()
    kwargs = client.connection_pool.connection_kwargs
    return {"host": kwargs["host"], "port": kwargs["port"], "db": kwargs["db"]}


class SlowReads:
    """A Redis client whose GETs take a moment longer (a busy replica)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get(self, key: str) -> Any:
        value = self._client.get(key)
        time.sleep(0.02)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def replica(kind: type[RedisLockStore], redis_db: dict[str, Any]) -> RedisLockStore:
    store = kind(**redis_db)
    store.red = SlowReads(store.red)  # the atomic store's scripts never GET
    return store


def overlaps(kind: type[RedisLockStore], redis_db: dict[str, Any]) -> int:
    """How often two replicas held one conversation's lock at the same time."""
    conversation = f"c-{uuid.uuid4().hex}"
    holding: list[int] = []
    overlapped = 0
    guard = threading.Lock()

    async def handle(store: RedisLockStore, name: int) -> None:
        nonlocal overlapped
        for _ in range(MESSAGES):
            async with store.lock(conversation, lock_lifetime=LIFETIME, wait_time_in_seconds=0.01):
                with guard:
                    holding.append(name)
                    overlapped += len(holding) > 1
                await asyncio.sleep(0.01)  # the message's turn
                with guard:
                    holding.remove(name)

    stores = [replica(kind, redis_db) for _ in range(2)]
    run_together([lambda s=s, n=n: asyncio.run(handle(s, n)) for n, s in enumerate(stores)])
    return overlapped


def test_rasas_redis_lock_store_lets_two_replicas_in_at_once(redis_db) -> None:
    assert overlaps(RedisLockStore, redis_db) > 0  # the gap the atomic store closes


def test_the_atomic_lock_store_lets_one_replica_in_at_a_time(redis_db) -> None:
    assert overlaps(AtomicRedisLockStore, redis_db) == 0


def test_tickets_are_issued_in_order_in_rasas_format_and_the_lock_goes_with_the_last(
    redis_db,
) -> None:
    store = AtomicRedisLockStore(**redis_db)
    conversation = f"c-{uuid.uuid4().hex}"
    assert [store.issue_ticket(conversation, 30) for _ in range(3)] == [0, 1, 2]
    lock = store.get_lock(conversation)
    assert isinstance(lock, TicketLock) and lock.now_serving == 0 and lock.last_issued == 2
    store.finish_serving(conversation, 0)
    assert store.get_lock(conversation).now_serving == 1
    store.cleanup(conversation, 1)
    store.cleanup(conversation, 2)
    assert store.get_lock(conversation) is None  # no ticket left: no lock


def test_expired_tickets_are_dropped(redis_db) -> None:
    store = AtomicRedisLockStore(**redis_db)
    conversation = f"c-{uuid.uuid4().hex}"
    store.issue_ticket(conversation, -1)  # already expired (a replica that died)
    live = store.issue_ticket(conversation, 30)
    assert live == 0 and store.get_lock(conversation).now_serving == 0
    store.issue_ticket(conversation, -1)
    store.update_lock(conversation)
    assert [t.number for t in store.get_lock(conversation).tickets] == [0]


def test_rasa_builds_it_from_endpoints_yml(redis_db) -> None:
    from rasa.core.lock_store import LockStore

    config = EndpointConfig(
        url=redis_db["host"],
        type="bot.lock_store.AtomicRedisLockStore",
        port=redis_db["port"],
        db=redis_db["db"],
        key_prefix="lotse",
    )
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore) and store.key_prefix == "lotse:lock:"
    conversation = f"c-{uuid.uuid4().hex}"
    assert store.issue_ticket(conversation) == 0
    store.cleanup(conversation, 0)


def test_a_ticket_that_cannot_be_released_does_not_fail_the_saved_turn() -> None:
    """Release runs after the turn is saved: Redis gone then is logged, not raised (the
    visitor would otherwise send an answered message again)."""
    from tests.support.console_client import free_port

    unreachable = AtomicRedisLockStore(host="127.0.0.1", port=free_port())
    started = time.monotonic()
    unreachable.cleanup("web-1", 0)  # no exception
    assert time.monotonic() - started < 5
    with pytest.raises(LockError):  # while taking a ticket, it fails the turn: nothing ran yet
        unreachable.issue_ticket("web-1")
