"""One way in for every channel: a message passes the turn gate and the ownership gate.

The turn gate (`bot.channels.turn_gate`) lets one turn per conversation run at a time
within bounds; the ownership gate (`bot.channels.ownership_gate`) keeps a message for
the staff console while a person has the conversation, so the bot stays silent there
whichever channel the visitor writes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.ownership_gate import ownership_gate
from bot.channels.turn_gate import TurnGate

Handler = Callable[[UserMessage], Awaitable[Any]]


def admitting(gate: TurnGate, on_new_message: Handler) -> Handler:
    """`on_new_message` behind both gates."""

    async def admit(message: UserMessage) -> Any:
        async with gate.turn(message.sender_id or ""):
            admission = await ownership_gate().admit(message.sender_id or "", message.text or "")
            if not admission.to_bot:
                return None  # kept for the person who has the conversation
            message.text = admission.text
            return await on_new_message(message)

    return admit
