"""One way in for every channel: a message passes the rate limit, the turn gate and the
ownership gate.

The rate limit bounds each conversation's messages (LOTSE_RATE_CONVERSATION, default
60 a minute with a burst of 30; "off" turns it off; counted in Redis for all replicas
when LOTSE_RATE_STORE is "redis", `lotse.shared_rate_limit`): one visitor, on any channel,
cannot take the bot's time from the others. Over it, `TooManyMessages` is raised before
anything runs: the REST channel answers 429 with Retry-After, a messenger's message is
dropped (the platform has its answer; the log counts it). The turn gate
(`bot.channels.turn_gate`) lets one turn per conversation run at a time within bounds;
the ownership gate (`bot.channels.ownership_gate`) keeps a message for the staff
console while a person has the conversation, so the bot stays silent there whichever
channel the visitor writes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.ownership_gate import ownership_gate
from bot.channels.turn_gate import TurnGate
from lotse.rate_limit import Bucket
from lotse.settings import load_settings
from lotse.shared_rate_limit import rate_limiter

Handler = Callable[[UserMessage], Awaitable[Any]]


class TooManyMessages(Exception):
    """The conversation sent more than its rate allows; `wait` seconds until it may."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"too many messages; wait {wait:.1f} s")
        self.wait = wait


def conversation_limit() -> Bucket | None:
    """The conversations' limit: shared by every replica in the scale-out profile."""
    settings = load_settings()
    return rate_limiter(settings.limits.per_conversation, settings, "conversation")


def admitting(gate: TurnGate, on_new_message: Handler) -> Handler:
    """`on_new_message` behind the rate limit and both gates."""
    limiter = conversation_limit()

    async def admit(message: UserMessage) -> Any:
        sender = message.sender_id or ""
        wait = limiter.take(sender) if limiter is not None else 0.0
        if wait:
            raise TooManyMessages(wait)
        async with gate.turn(sender):
            admission = await ownership_gate().admit(sender, message.text or "")
            if not admission.to_bot:
                return None  # kept for the person who has the conversation
            message.text = admission.text
            return await on_new_message(message)

    return admit
