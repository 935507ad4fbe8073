"""What changes in an open conversation between its reloads: who is typing
(`handoff.typing_indicator`) and whether the staff messages reached a messenger
(`conversations.delivery_status`).

- `GET /console/api/handoffs/{id}/typing`: who types now, for whoever may read the
  conversation (`Desk.readable`);
- `PUT /console/api/handoffs/{id}/typing` `{"typing": true|false}`: the agent who has
  the conversation types (or stopped); anyone else gets 403. CSRF and JSON are checked
  for it like for every changing request (`console.app.authenticate`);
- `GET /console/api/handoffs/{id}/deliveries`: per staff message of a messenger
  conversation, delivered, pending or failed with the platform's error (none, and
  `messenger` false, for the website's conversations).

The console learns that typing changed from the event stream (`typing` events with the
newest typing row id only, `TypingFeed`), as it learns of other changes. Nothing is
logged; no text is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.feed import ChangeFeed
from console.routing import Routes, blocking
from console.views import stamp
from console.web import actor_of, body_of
from conversations.delivery_status import DeliveryStatus, DeliveryStatuses
from handoff.typing_indicator import TypingState

TYPING_POLL_SECONDS = 0.2  # typing need not be as quick as a new conversation


def typing_view(state: TypingState, now: datetime) -> dict[str, Any]:
    def side(until: datetime | None) -> dict[str, Any]:
        seconds = max(0.0, (until - now).total_seconds()) if until else 0.0
        return {"typing": until is not None and seconds > 0, "seconds": round(seconds, 2)}

    return {"visitor": side(state.visitor), "agent": side(state.agent)}


def delivery_view(status: DeliveryStatus) -> dict[str, Any]:
    return {"message_id": status.message_id, "status": status.status, "at": stamp(status.at),
            "kind": status.kind, "reason": status.reason}  # fmt: skip


def typing_feed(app: Sanic) -> ChangeFeed:
    """The process's feed of typing changes (one poller, started with the server)."""
    return app.ctx.typing_feed


def register(routes: Routes) -> None:
    app = routes.app

    @app.before_server_start
    async def start_typing_feed(app_: Sanic, _loop: Any) -> None:
        feed = ChangeFeed(app_.ctx.console.desk.typing.latest_id, TYPING_POLL_SECONDS)
        app_.ctx.typing_feed = feed
        app_.add_task(feed.run())

    def staff_messages(conversation_id: str) -> list[int]:
        store = routes.console.desk.store
        return [m.id for m in store.messages(conversation_id, 0, ("agent",))]

    def statuses(conversation_id: str) -> tuple[bool, list[DeliveryStatus]]:
        read = DeliveryStatuses(routes.console.desk.store.engine)
        if not read.is_messenger(conversation_id):
            return False, []
        return True, read.of(conversation_id, staff_messages(conversation_id))

    @routes("/console/api/handoffs/<handoff_id:int>/typing", ["GET"], "typing")
    async def typing(request: Request, handoff_id: int) -> HTTPResponse:
        desk = routes.console.desk
        state = await blocking(desk.typing_in, handoff_id, actor_of(request))
        return response.json(typing_view(state, routes.now()))

    @routes("/console/api/handoffs/<handoff_id:int>/typing", ["PUT"], "set_typing")
    async def set_typing(request: Request, handoff_id: int) -> HTTPResponse:
        typing_now = body_of(request).get("typing")
        if not isinstance(typing_now, bool):
            raise ValueError("typing is true or false")
        desk = routes.console.desk
        state = await blocking(desk.agent_typing, handoff_id, actor_of(request), typing_now)
        return response.json(typing_view(state, routes.now()))

    @routes("/console/api/handoffs/<handoff_id:int>/deliveries", ["GET"], "deliveries")
    async def delivery_statuses(request: Request, handoff_id: int) -> HTTPResponse:
        desk = routes.console.desk
        actor = actor_of(request)
        handoff = await blocking(desk.readable, handoff_id, actor)
        messenger, found = await blocking(statuses, handoff.conversation_id)
        await blocking(desk.readable, handoff_id, actor)  # still theirs: what was read is shown
        return response.json({"messenger": messenger,
                              "deliveries": [delivery_view(s) for s in found]})  # fmt: skip
