"""How a message leaves for a messenger: rendered for the platform, then sent in parts.

An `Outlet` is a channel's way out: its name, its `Sender` (which speaks the
platform's send API) and its limits. `Outlet.deliver` renders a text with its buttons
(`bot.channels.rendering`), remembers the choices shown (so that a reply "2" can mean
the second), and sends the parts in order. The bot's answers (`MessengerOutput`) and
the staff messages of a handoff (`bot.channels.relay`) both leave through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.channels.address_book import AddressBook
from bot.channels.rendering import Button, ChannelLimits, Part, render

BUTTONS_ONLY_TEXT = "…"  # Telegram and Messenger refuse a message without text
log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The platform did not take a message; the text says why, without its content."""


class Sender(Protocol):
    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        """Sends one rendered part; raises SendFailed (or the client's error)."""


@dataclass(frozen=True)
class Outlet:
    channel: str
    sender: Sender
    limits: ChannelLimits

    async def deliver(
        self, book: AddressBook, conversation_id: str, address: Mapping[str, Any], text: str,
        buttons: tuple[Button, ...], shown: tuple[Button, ...] | None = None,
    ) -> None:  # fmt: skip
        """Sends `text` with `buttons`; stores them as the conversation's choices unless
        they are the choices `shown` already. A failed part is logged (channel and error
        class only) and raised; the parts after it are not sent."""
        if buttons != shown:
            await asyncio.to_thread(book.set_menu, conversation_id, buttons)
        for part in render(text, buttons, self.limits):
            if not part.text.strip():
                part = Part(BUTTONS_ONLY_TEXT, part.buttons)
            try:
                await self.sender.send(address, part)
            except Exception as error:
                log.warning("%s: a message could not be sent (%s)", self.channel,
                            type(error).__name__)  # fmt: skip
                raise
