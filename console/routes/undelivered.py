"""The dead letters of the messengers, for admins: every message the relay gave up on
(`bot.channels.relay`: refused by the platform, sent without an answer, the platform
busy for an hour, or too old to send), the bot's answers as well as staff messages.

`GET /console/api/undelivered`: newest first, each with its conversation, channel, who
wrote it, the beginning of its text (EXCERPT_CHARS), when it was written and why it
was not delivered. The person has not seen these: staff reach them another way. A
staff message's failure is also a note on its handoff (the relay writes it).
"""

from __future__ import annotations

from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.routing import Routes, admin_only, blocking
from conversations.delivery_status import DeliveryStatus, DeliveryStatuses
from handoff.store import Message
from lotse.translations import N_

EXCERPT_CHARS = 120
LISTED = 200


def dead_letter_view(conversation_id: str, status: DeliveryStatus,
                     message: Message | None) -> dict[str, Any]:  # fmt: skip
    text = message.text if message is not None else ""
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"
    return {
        "message_id": status.message_id,
        "conversation_id": conversation_id,
        "channel": conversation_id.partition(":")[0],
        "from": message.sender if message is not None else None,
        "handoff_id": message.handoff_id if message is not None else None,
        "excerpt": excerpt,
        "written_at": message.at.isoformat() if message is not None else None,
        "kind": status.kind,
        "reason": status.reason,
    }


def register(routes: Routes) -> None:
    def dead_letters() -> list[dict[str, Any]]:
        store = routes.console.desk.store
        found = DeliveryStatuses(store.engine).given_up(LISTED)
        texts = store.messages_by_id([s.message_id for _, s in found])
        return [dead_letter_view(c, s, texts.get(s.message_id)) for c, s in found]

    @routes("/console/api/undelivered", ["GET"], "undelivered")
    async def undelivered(request: Request) -> HTTPResponse:
        admin_only(request, N_("only an admin may see the undelivered messages"))
        return response.json({"undelivered": await blocking(dead_letters)})
