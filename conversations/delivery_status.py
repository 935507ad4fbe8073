"""Whether the staff messages of a messenger conversation reached the platform, for the
console (issue 22, item 4): read from `channel_deliveries`, which the handoff relay
(`bot.channels.relay`) writes, and never written here.

A message of a conversation that has a messenger address (`channel_addresses`) is

- `delivered` once the platform took its last part (`sent_at`),
- `failed` once the relay gave up (`error`, "kind: reason": refused, unknown, busy,
  expired, gone; the reason is the platform's answer, e.g. "twilio answered 400"),
- `pending` while it is claimed and being sent or retried, and before a relay has
  claimed it at all (no row yet: no Rasa process with that channel runs, or it is a
  moment old).

A conversation without a messenger address (the website) has no deliveries: its
messages reach the widget through the long poll. Plain reads, no personal data in
what is returned but the error (the platform's words, which name no person); nothing
is logged. Errors from the database propagate as SQLAlchemy errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from conversations.address_book import addresses, deliveries

DELIVERED, PENDING, FAILED = "delivered", "pending", "failed"


@dataclass(frozen=True)
class DeliveryStatus:
    message_id: int
    status: str  # DELIVERED, PENDING or FAILED
    at: datetime | None  # when it was sent, or last claimed; None before a claim
    kind: str | None = None  # for FAILED: refused, unknown, busy, expired, gone
    reason: str | None = None  # for FAILED: the platform's error as the relay recorded it


def status_of(message_id: int, row: object | None) -> DeliveryStatus:
    """The status of one message from its `channel_deliveries` row (None: no row). Pure."""
    if row is None:
        return DeliveryStatus(message_id, PENDING, None)
    sent_at, error, claimed_at = row.sent_at, row.error, row.claimed_at  # type: ignore[attr-defined]
    if sent_at is not None:
        return DeliveryStatus(message_id, DELIVERED, sent_at)
    if error:
        kind, _, reason = str(error).partition(": ")
        return DeliveryStatus(message_id, FAILED, claimed_at, kind or None, reason or None)
    return DeliveryStatus(message_id, PENDING, claimed_at)


class DeliveryStatuses:
    """Reads; thread-safe as far as the engine is."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def is_messenger(self, conversation_id: str) -> bool:
        query = select(addresses.c.channel).where(addresses.c.conversation_id == conversation_id)
        with self._engine.connect() as c:
            return c.execute(query).first() is not None

    def of(self, conversation_id: str, message_ids: Iterable[int]) -> list[DeliveryStatus]:
        """The status of each of `message_ids` (in their order) if the conversation is a
        messenger's; an empty list otherwise."""
        wanted = list(dict.fromkeys(message_ids))
        if not wanted or not self.is_messenger(conversation_id):
            return []
        query = select(deliveries).where(
            deliveries.c.conversation_id == conversation_id,
            deliveries.c.message_id.in_(wanted),
        )
        with self._engine.connect() as c:
            rows = {int(row.message_id): row for row in c.execute(query)}
        return [status_of(message_id, rows.get(message_id)) for message_id in wanted]

    def given_up(self, limit: int = 200) -> list[tuple[str, DeliveryStatus]]:
        """(conversation id, status) of the messages the relay gave up on (the dead
        letters: the bot's answers and staff messages alike), newest first."""
        query = (
            select(deliveries)
            .where(deliveries.c.error.is_not(None))
            .order_by(deliveries.c.message_id.desc())
            .limit(limit)
        )
        with self._engine.connect() as c:
            rows = list(c.execute(query))
        return [(str(row.conversation_id), status_of(int(row.message_id), row)) for row in rows]

    def given_up_count(self) -> int:
        query = select(func.count()).where(deliveries.c.error.is_not(None))
        with self._engine.connect() as c:
            return int(c.execute(query).scalar() or 0)
