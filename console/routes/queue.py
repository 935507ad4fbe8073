"""The queue an agent sees, their presence, and the change feed that tells the page
to look again (event ids only, a heartbeat that also checks the session), and that
someone types (typing row ids only, `console.routes.conversation_live`)."""

from __future__ import annotations

import time

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.feed import wait_either
from console.i18n import session_language
from console.routes.conversation_live import typing_feed
from console.routing import Routes, blocking
from console.views import handoff_summary
from console.web import COOKIE, actor_of, body_of
from handoff.auth import InvalidSession
from handoff.desk import ONLINE_WITHIN, NotAllowed
from handoff.ownership import HUMAN
from lotse.translations import N_

STATUSES = ("available", "away")
HEARTBEAT = 10.0


def register(routes: Routes) -> None:
    def stages(lead_ids: list[int | None]) -> dict[int, str | None]:
        crm = routes.console.crm
        return crm.stages(i for i in lead_ids if i is not None) if crm else {}

    @routes("/console/api/queue", ["GET"], "queue")
    async def queue(request: Request) -> HTTPResponse:
        desk = routes.console.desk
        actor = actor_of(request)
        moment = routes.now()
        visible = await blocking(desk.visible, actor)
        stage_of = await blocking(stages, [h.lead_id for h in visible])
        # News from the visitor matters to the agent who has the conversation only.
        talking = [h.id for h in visible if h.state == HUMAN and h.assignee == actor.staff_id
                   and actor.staff_id is not None]  # fmt: skip
        wrote = await blocking(desk.store.last_visitor_message, talking) if talking else {}
        statuses = await blocking(desk.store.statuses)
        online = await blocking(desk.store.online, moment, ONLINE_WITHIN)
        language = session_language(request)
        return response.json({
            "handoffs": [{**handoff_summary(h, desk.model, moment, stage_of.get(h.lead_id),
                                            language),
                          "last_visitor_message": wrote.get(h.id)} for h in visible],
            "staff": [
                {"id": sid, "name": m.name, "team": m.team, "languages": list(m.languages),
                 "online": sid in online}
                for sid, m in desk.model.staff.items()
            ],
            "teams": [{"key": k, "label": t.label.get(language) or t.label.get("en") or k}
                      for k, t in desk.model.teams.items()],
            "status": statuses.get(actor.staff_id or "", ("away", None))[0],
        })  # fmt: skip

    @routes("/console/api/presence", ["PUT"], "presence")
    async def presence(request: Request) -> HTTPResponse:
        status = body_of(request).get("status")
        if status not in STATUSES:
            raise ValueError(N_("status is available or away"))
        actor = actor_of(request)
        if actor.staff_id is None:
            raise NotAllowed(N_("this login is not a staff member"))
        await blocking(routes.console.desk.store.touch_presence, actor.staff_id, status)
        return response.json({"status": status})

    @routes("/console/api/events", ["GET"], "events")
    async def events(request: Request) -> HTTPResponse | None:
        console = routes.console
        feed = routes.app.ctx.feed
        actor = actor_of(request)
        token = request.cookies.get(COOKIE) or ""
        stream = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        typing = typing_feed(routes.app)
        last, typed_last = feed.current, typing.current
        await stream.send(f"event: change\ndata: {last}\n\n")
        checked = -HEARTBEAT
        while True:
            if time.monotonic() - checked >= HEARTBEAT:  # presence and session, not per change
                checked = time.monotonic()
                if actor.staff_id:
                    await blocking(console.desk.store.heartbeat, actor.staff_id)
                try:
                    await blocking(console.auth.session, token)
                except InvalidSession:
                    await stream.send("event: logout\ndata: {}\n\n")
                    break
            changed, typed = await wait_either((feed, last), (typing, typed_last), HEARTBEAT)
            news = ""
            if changed > last:
                last = changed
                news += f"event: change\ndata: {last}\n\n"
            if typed > typed_last:  # who types: the newest typing id only, like changes
                typed_last = typed
                news += f"event: typing\ndata: {typed}\n\n"
            await stream.send(news or ": still here\n\n")
        await stream.eof()
        return None
