"""Where each messenger conversation is reached, and which staff messages went there.

A messenger conversation's id is `"{channel}:{platform id}"` (`conversation_id_for`):
unique across channels, and the channel is visible in every list of conversations.
`AddressBook.remember` keeps, per conversation, what the platform needs to reach the
person again (a chat id, a phone number, a Bot Framework conversation and service
URL) and returns the numbered choices the bot showed last (`set_menu`), so that a
reply "2" can mean the second choice. `claim` makes one relay, of however many run,
the sender of a handoff message (the table's primary key decides), and `sent` /
`failed` record the outcome. A delivery is open while it has neither; its relay
renews `claimed_at` while it holds it (`renew`), and a relay may `take_over` an open
delivery whose claim is older than a cutoff (its relay stopped): a conditional update,
so of several relays exactly one wins. The tables live in the shared Lotse database
(migration 0007), so every replica sees the same addresses. Addresses may be personal
data (a WhatsApp number): nothing here logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from conversations.rendering import Button
from crm_adapter.store.models import UtcDateTime
from lotse.database import writer

MAX_CONVERSATION_CHARS = 128
MAX_ERROR_CHARS = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._:@+-]")

metadata = MetaData()
addresses = Table(
    "channel_addresses",
    metadata,
    Column("conversation_id", String(128), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("address", JSON, nullable=False),
    Column("menu", JSON),
    Column("updated_at", UtcDateTime, nullable=False),
)
deliveries = Table(
    "channel_deliveries",
    metadata,
    Column("message_id", Integer, primary_key=True, autoincrement=False),
    Column("conversation_id", String(128), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("error", String(200)),
)


def conversation_id_for(channel: str, platform_id: object) -> str | None:
    """`"{channel}:{platform id}"`, with unsafe characters dropped; None if nothing is left."""
    cleaned = _UNSAFE.sub("", str(platform_id or ""))
    if not cleaned:
        return None
    return f"{channel}:{cleaned}"[:MAX_CONVERSATION_CHARS]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _open() -> tuple[Any, ...]:
    """Neither sent nor given up."""
    return (deliveries.c.sent_at.is_(None), deliveries.c.error.is_(None))


def _menu(raw: object) -> tuple[Button, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        Button(str(b["title"]), str(b["payload"]))
        for b in raw
        if isinstance(b, dict) and "title" in b and "payload" in b
    )


class AddressBook:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def remember(
        self, conversation_id: str, channel: str, address: Mapping[str, Any]
    ) -> tuple[Button, ...]:
        """Stores the conversation's address if it is new or changed (a read otherwise);
        returns the choices shown last (may be none)."""
        query = select(addresses.c.address, addresses.c.menu).where(
            addresses.c.conversation_id == conversation_id
        )
        with self._engine.connect() as c:
            row = c.execute(query).first()
        if row is not None and row.address == dict(address):
            return _menu(row.menu)
        values = {"channel": channel, "address": dict(address), "updated_at": _now()}
        try:
            with self._writer.begin() as c:
                changed = c.execute(
                    update(addresses).where(addresses.c.conversation_id == conversation_id),
                    values,
                )
                if changed.rowcount == 0:
                    c.execute(insert(addresses), {"conversation_id": conversation_id, **values})
        except IntegrityError:
            pass  # a message of the same conversation stored it at the same moment
        return () if row is None else _menu(row.menu)

    def address(self, conversation_id: str) -> tuple[str, dict[str, Any]] | None:
        """(channel, address) of a messenger conversation; None for any other."""
        with self._engine.connect() as c:
            row = c.execute(
                select(addresses.c.channel, addresses.c.address).where(
                    addresses.c.conversation_id == conversation_id
                )
            ).first()
        return None if row is None else (row.channel, dict(row.address))

    def set_menu(self, conversation_id: str, menu: tuple[Button, ...]) -> None:
        with self._writer.begin() as c:
            self.set_menu_in(c, conversation_id, menu)

    @staticmethod
    def set_menu_in(c: Connection, conversation_id: str, menu: tuple[Button, ...]) -> None:
        """`set_menu` in the caller's transaction `c`."""
        stored = [{"title": b.title, "payload": b.payload} for b in menu] or None
        c.execute(
            update(addresses).where(addresses.c.conversation_id == conversation_id)
            .values(menu=stored)
        )  # fmt: skip

    def claim(self, message_id: int, conversation_id: str) -> bool:
        """True for the one caller that may send the message; False if it is taken."""
        row = {"message_id": message_id, "conversation_id": conversation_id, "claimed_at": _now()}
        try:
            with self._writer.begin() as c:
                c.execute(insert(deliveries), row)
        except IntegrityError:
            return False
        return True

    def claimed(self, message_ids: list[int]) -> set[int]:
        if not message_ids:
            return set()
        query = select(deliveries.c.message_id).where(deliveries.c.message_id.in_(message_ids))
        with self._engine.connect() as c:
            return {int(i) for i in c.execute(query).scalars()}

    def renew(self, message_ids: list[int]) -> None:
        """The calling relay still holds these (open) deliveries."""
        if not message_ids:
            return
        with self._writer.begin() as c:
            c.execute(
                update(deliveries)
                .where(deliveries.c.message_id.in_(message_ids), *_open())
                .values(claimed_at=_now())
            )

    def abandoned(self, claimed_before: datetime, limit: int = 100) -> list[tuple[int, str]]:
        """(message id, conversation id) of open deliveries claimed before the cutoff."""
        query = (
            select(deliveries.c.message_id, deliveries.c.conversation_id)
            .where(deliveries.c.claimed_at < claimed_before, *_open())
            .order_by(deliveries.c.message_id)
            .limit(limit)
        )
        with self._engine.connect() as c:
            return [(int(i), str(conversation)) for i, conversation in c.execute(query)]

    def take_over(self, message_id: int, claimed_before: datetime) -> bool:
        """True for the one caller that takes an open delivery claimed before the cutoff."""
        with self._writer.begin() as c:
            done = c.execute(
                update(deliveries)
                .where(deliveries.c.message_id == message_id,
                       deliveries.c.claimed_at < claimed_before, *_open())
                .values(claimed_at=_now())
            )  # fmt: skip
        return done.rowcount == 1

    def open_before(self, conversation_id: str, message_id: int) -> set[int]:
        """Ids of the conversation's open deliveries older than `message_id`."""
        query = select(deliveries.c.message_id).where(
            deliveries.c.conversation_id == conversation_id,
            deliveries.c.message_id < message_id, *_open(),
        )  # fmt: skip
        with self._engine.connect() as c:
            return {int(i) for i in c.execute(query).scalars()}

    def sent(self, message_id: int) -> None:
        self._outcome(message_id, sent_at=_now(), error=None)

    def failed(self, message_id: int, error: str) -> None:
        self._outcome(message_id, error=error[:MAX_ERROR_CHARS])

    def _outcome(self, message_id: int, **values: Any) -> None:
        with self._writer.begin() as c:
            c.execute(
                update(deliveries).where(deliveries.c.message_id == message_id).values(**values)
            )

    def forget(self, conversation_id: str) -> None:
        """DSGVO erasure: the conversation's address and its relayed messages' records."""
        with self._writer.begin() as c:
            c.execute(delete(addresses).where(addresses.c.conversation_id == conversation_id))
            c.execute(delete(deliveries).where(deliveries.c.conversation_id == conversation_id))

    def deliveries(self, conversation_id: str) -> list[dict[str, Any]]:
        query = (
            select(deliveries)
            .where(deliveries.c.conversation_id == conversation_id)
            .order_by(deliveries.c.message_id)
        )
        with self._engine.connect() as c:
            return [dict(r) for r in c.execute(query).mappings()]
