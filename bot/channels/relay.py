"""During a handoff, what staff write reaches the visitor on their messenger.

The staff console writes a handoff's messages (a colleague's replies, the notices that
someone joined or closed, the bot's words after a hand-back or an unclaimed wait) to
the handoff store; the website widget long-polls for them. For a conversation on a
messenger, a `Relay` in each Rasa process watches the store's events (every
POLL_SECONDS) and sends those messages through the channel's `Outlet`, rendered for
the platform like the bot's own. Which process sends a message is decided by
`AddressBook.claim` (one claim per message), so several replicas never send twice. A
failed send is tried ATTEMPTS times in all, then recorded with its error class in
`channel_deliveries`; messages older than MAX_AGE when first seen (e.g. written while
no Rasa process ran) are not sent late. Message texts are personal data: never logged.

Each messenger channel registers its outlet (`register`) when Rasa builds its
blueprint and starts the relay with the server (`start`/`stop`, Sanic listeners).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.channels.address_book import AddressBook, shared_address_book
from bot.channels.outlet import Outlet
from bot.channels.rendering import buttons_from
from handoff.store import HandoffStore, Message, utc_now
from handoff.wiring import handoff_store
from lotse.settings import load_settings

POLL_SECONDS = 0.25
MAX_AGE = timedelta(minutes=10)
ATTEMPTS = 3
RETRY_SECONDS = 1.0
LOOKBACK_EVENTS = 500  # at start, events looked at again (claims keep sends unique)
RELAYED = ("agent", "system", "bot")
log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self, store: HandoffStore, book: AddressBook, outlets: Mapping[str, Outlet],
        clock: Callable[[], datetime] = utc_now, retry_seconds: float = RETRY_SECONDS,
    ) -> None:  # fmt: skip
        self.store = store
        self.book = book
        self.outlets = dict(outlets)
        self.clock = clock
        self.retry_seconds = retry_seconds
        self.latest = max(0, store.latest_event_id() - LOOKBACK_EVENTS)

    async def run(self, poll_seconds: float = POLL_SECONDS) -> None:
        while True:
            try:
                await self.once()
            except Exception:  # noqa: BLE001 - the database may be restarting: go on
                log.exception("handoff relay: a round failed; trying again")
            await asyncio.sleep(poll_seconds)

    async def once(self) -> int:
        """Sends what is new; returns how many messages were sent."""
        fresh = await asyncio.to_thread(self.store.changed_since, self.latest)
        if not fresh:
            return 0
        self.latest = fresh[-1][0]
        ours = {c for _, c in fresh if c.partition(":")[0] in self.outlets}
        sent = 0
        for conversation in sorted(ours):
            sent += await self.relay(conversation)
        return sent

    async def relay(self, conversation_id: str) -> int:
        """Sends the conversation's staff messages that no relay has claimed yet."""
        target = await asyncio.to_thread(self.book.address, conversation_id)
        if target is None or target[0] not in self.outlets:
            return 0
        channel, address = target
        found = await asyncio.to_thread(self.store.messages, conversation_id, 0, RELAYED)
        now = self.clock()
        due = [m for m in found if m.handoff_id is not None and now - m.at <= MAX_AGE]
        taken = await asyncio.to_thread(self.book.claimed, [m.id for m in due])
        sent = 0
        for message in due:
            if message.id in taken:
                continue
            if await asyncio.to_thread(self.book.claim, message.id, conversation_id):
                sent += await self.deliver(self.outlets[channel], address, message)
        return sent

    async def deliver(self, outlet: Outlet, address: Mapping[str, Any], message: Message) -> int:
        buttons = buttons_from(list(message.buttons or ()))
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await outlet.deliver(self.book, message.conversation_id, address,
                                     visible_text(message), buttons)  # fmt: skip
            except Exception as error:  # noqa: BLE001 - any client error: retry, then record
                if attempt == ATTEMPTS:
                    await asyncio.to_thread(self.book.failed, message.id, type(error).__name__)
                    return 0
                await asyncio.sleep(self.retry_seconds * attempt)
            else:
                await asyncio.to_thread(self.book.sent, message.id)
                return 1
        return 0


def visible_text(message: Message) -> str:
    """A colleague's reply says who wrote it, as the widget shows it."""
    if message.sender == "agent" and message.author_label:
        return f"{message.author_label}: {message.text}"
    return message.text


# -- one relay per Rasa process, for the channels Rasa was started with ---------------

_outlets: dict[str, Outlet] = {}
_task: asyncio.Task | None = None


def register(outlet: Outlet) -> None:
    _outlets[outlet.channel] = outlet


async def start(_app: Any, _loop: Any = None) -> None:
    global _task
    if _task is not None or not _outlets:
        return
    store = handoff_store(load_settings().database_url)
    relay = Relay(store, shared_address_book(), _outlets)
    _task = asyncio.get_running_loop().create_task(relay.run())


async def stop(_app: Any, _loop: Any = None) -> None:
    global _task
    if _task is not None:
        _task.cancel()
        _task = None
