"""Rasa's Redis lock store with every change of a lock made atomically in Redis.

Rasa keeps one conversation's messages in order across replicas with a ticket lock
stored as one JSON value per conversation in Redis. Rasa 3.6's `RedisLockStore`
changes it by reading the value, changing it in Python and writing it back: two
replicas issuing a ticket at the same moment both read the same lock, and the second
write drops the first's ticket, so both process a message of the conversation at once.
Finishing a ticket and pruning expired ones race the same way, and `cleanup` deletes
the lock after checking that nobody waits (a ticket issued in between is deleted with
it, and its message fails with "Could not acquire lock").

`AtomicRedisLockStore` keeps Rasa's format and waiting loop and runs each change as one
Lua script on the Redis server (scripts run one at a time there): issuing a ticket
(after dropping expired ones), finishing one (deleting the lock when it was the last),
and pruning. Use it in endpoints.yml:

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379
      db: 1

A ticket lives TICKET_LOCK_LIFETIME seconds (Rasa's default 60). No Lotse action runs
that long: CRM calls go through the outbox (`crm_adapter.store.crm_events`), and the action
endpoint's timeout is shorter than the lifetime.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# The lock's JSON: {"conversation_id": id, "tickets": ["{\"number\": n, \"expires\": t}", ...]}
# (each ticket is itself a JSON string, as Rasa's TicketLock.dumps writes it).
_COMMON = """
local function load(raw, conversation_id)
  if not raw then return {conversation_id = conversation_id, tickets = {}} end
  local lock = cjson.decode(raw)
  if type(lock.tickets) ~= 'table' then lock.tickets = {} end
  return lock
end
local function live(lock, now, drop)
  local kept = {}
  for _, raw in ipairs(lock.tickets) do
    local ticket = cjson.decode(raw)
    if ticket.expires >= now and ticket.number ~= drop then table.insert(kept, raw) end
  end
  return kept
end
local function store(key, lock, kept)
  if #kept == 0 then redis.call('DEL', key) return end
  lock.tickets = kept
  redis.call('SET', key, cjson.encode(lock))
end
"""

ISSUE = (
    _COMMON
    + """
local lock = load(redis.call('GET', KEYS[1]), ARGV[1])
local now, lifetime = tonumber(ARGV[2]), tonumber(ARGV[3])
local kept = live(lock, now, nil)
local number = 0
if #kept > 0 then number = cjson.decode(kept[#kept]).number + 1 end
table.insert(kept, cjson.encode({number = number, expires = now + lifetime}))
store(KEYS[1], lock, kept)
return number
"""
)

FINISH = (
    _COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local lock = load(raw, ARGV[1])
store(KEYS[1], lock, live(lock, tonumber(ARGV[2]), tonumber(ARGV[3])))
return 1
"""
)

PRUNE = (
    _COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local lock = load(raw, ARGV[1])
store(KEYS[1], lock, live(lock, tonumber(ARGV[2]), nil))
return 1
"""
)


class AtomicRedisLockStore(RedisLockStore):
    """See the module docstring. Accepts Rasa's `RedisLockStore` arguments, or the
    `endpoint_config` Rasa passes to a lock store named by its module path."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        super().__init__(**kwargs)
        self._issue = self.red.register_script(ISSUE)
        self._finish = self.red.register_script(FINISH)
        self._prune = self.red.register_script(PRUNE)

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            args = [conversation_id, time.time(), lock_lifetime]
            return int(self._issue(keys=[self._key(conversation_id)], args=args))
        except Exception as error:  # Rasa's contract: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        args = [conversation_id, time.time(), ticket_number]
        self._finish(keys=[self._key(conversation_id)], args=args)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finishes the ticket; the lock goes with its last ticket, in the same step.

        Runs after the turn was saved, so a failure here must not fail the turn (the
        visitor would send again a message that was answered), and Rasa calls it on
        the event loop: one attempt, then the ticket is left to expire with its
        lifetime."""
        try:
            self.finish_serving(conversation_id, ticket_number)
        except RedisError as error:
            log.warning("lock store: a ticket could not be released (%s); it expires with "
                        "its lifetime", type(error).__name__)  # fmt: skip

    def update_lock(self, conversation_id: str) -> None:
        self._prune(keys=[self._key(conversation_id)], args=[conversation_id, time.time()])
