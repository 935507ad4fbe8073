"""How a message leaves for a messenger: rendered for the platform, then sent in parts.

An `Outlet` is a channel's way out: its name, its `Sender` (which speaks the
platform's send API) and its limits. `parts` renders a text with its buttons
(`conversations.rendering`) within the platform's limits, and `send` sends one part.
Everything for a person on a messenger (the bot's answers, queued by
`bot.channels.inbox`, and the staff messages of a handoff) leaves through it, sent
by the relay (`bot.channels.relay`) part by part, so that a retry never repeats a
part the platform took.

A sender raises one family of errors (`bot.channels.platform_http` makes them from
HTTP answers):

    SendFailed                  the platform did not take the message
    ├── PlatformBusy            not taken, try again: 429, 5xx, 408, no connection;
    │                           `retry_after` seconds when the platform said
    ├── PlatformRefused         not taken, and trying again will not change that: other
    │                           4xx (blocked by the person, no such chat, bad credentials)
    └── DeliveryUnknown         the request went out but no answer came back (a read
                                timeout, a connection lost): it may have arrived, and
                                sending it again may show it twice

Other exceptions from a sender are programming errors; the relay treats them as
refusals. No error text carries the message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from conversations.rendering import Button, ChannelLimits, Part, render

BUTTONS_ONLY_TEXT = "…"  # Telegram and Messenger refuse a message without text
log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The platform did not take a message; the text says why, without its content."""


class PlatformBusy(SendFailed):
    """Not taken this time; may be sent again (after `retry_after` s, if not None)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PlatformRefused(SendFailed):
    """Not taken, and sending again would not change that."""


class DeliveryUnknown(SendFailed):
    """Sent, but no answer came: the platform may or may not have taken it."""


class Sender(Protocol):
    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        """Sends one rendered part; raises SendFailed (or the client's error)."""


@dataclass(frozen=True)
class Outlet:
    channel: str
    sender: Sender
    limits: ChannelLimits

    def parts(self, text: str, buttons: tuple[Button, ...]) -> list[Part]:
        """The parts `text` with `buttons` is sent in, in order."""
        return [
            part if part.text.strip() else Part(BUTTONS_ONLY_TEXT, part.buttons)
            for part in render(text, buttons, self.limits)
        ]

    async def send(self, address: Mapping[str, Any], part: Part) -> None:
        """Sends one part; a failure is logged (channel and error class) and raised."""
        try:
            await self.sender.send(address, part)
        except Exception as error:
            log.warning("%s: a message could not be sent (%s)", self.channel,
                        type(error).__name__)  # fmt: skip
            raise
