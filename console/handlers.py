"""The console's JSON API routes (see openapi.yaml); thin over the desk and the auth.

Every route that reads a conversation by handoff id (detail: transcript, the bot's
part, lead card, notes; answers; notes; close with a verdict) asks `Desk.readable`
first, the one rule of `handoff.ownership.may_read`, and a route that read something
asks again before answering: a former assignee gets 403. Login throttling counts the
client by `web.client_address` (X-Forwarded-For only from a trusted proxy).

Blocking work (database, Rasa, CRM) runs in threads so one slow call never stalls the
event streams of other agents. Admins export or erase a person's data (DSGVO) with the
`lotse privacy` command's code (`privacy/export.py`, `privacy/erasure.py`), one
at a time, audited with their login; a bad email or number is a 400.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache, partial, wraps
from typing import Any, TypeVar

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.lead_card import change_answer, empty_card, lead_card
from console.views import handoff_summary, message_view, note_view, transcript
from console.web import (
    COOKIE,
    actor_of,
    body_of,
    client_address,
    error,
    person_of,
    text_of,
)
from crm_adapter.port import Visit
from crm_adapter.scoring_model import load_scoring_model
from crm_adapter.verdict import give_verdict
from dialogue.qualification.interpret import AnswerInterpreter
from handoff.auth import BadCredentials, InvalidSession, TooManyAttempts
from handoff.bot_port import BotUnavailable
from handoff.desk import ONLINE_WITHIN, NotAllowed
from handoff.store import Handoff
from privacy.erasure import DataErasure
from privacy.export import DataExport, as_text
from privacy.personal_stores import PersonalStores

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER, which SQLite's holds

log = logging.getLogger(__name__)
T = TypeVar("T")
OUTCOMES = ("resolved", "lead_accepted", "lead_rejected", "no_answer", "spam", "other")
STATUSES = ("available", "away")
HEARTBEAT = 10.0
# One export or erasure at a time: they share the tracker store's SQLite connection.
PRIVACY_LOCK = threading.Lock()


async def blocking(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(function, *args)


@lru_cache(maxsize=1)
def interpreter() -> AnswerInterpreter:
    return AnswerInterpreter()


def _user_view(session: Any) -> dict[str, Any]:
    return {"username": session.username, "role": session.role, "staff_id": session.staff_id}


def register(app: Sanic) -> None:  # noqa: C901 - one place lists every route
    def ctx() -> Any:
        return app.ctx.console

    def now() -> datetime:
        return ctx().desk.clock()

    def route(path: str, methods: list[str], name: str) -> Callable:
        def add(handler: Callable) -> Callable:
            @wraps(handler)
            async def within_range(request: Request, **params: Any) -> HTTPResponse:
                # Beyond the stores' INTEGER no handoff can exist (SQLite would overflow).
                if not 0 < params.get("handoff_id", 1) <= MAX_ID:
                    return error(404, "no such conversation")
                return await handler(request, **params)

            app.add_route(within_range, path, methods=methods, name=name)
            return handler

        return add

    @route("/console/api/login", ["POST"], "login")
    async def login(request: Request) -> HTTPResponse:
        body = body_of(request)
        username = str(body.get("username") or "")[:64]
        password = str(body.get("password") or "")[:256]
        forwarded = request.headers.getall("x-forwarded-for", [])
        client = client_address(request.ip, forwarded, ctx().trusted_proxies)
        try:
            session = await blocking(ctx().auth.login, username, password, client)
        except TooManyAttempts as refused:
            wait = max(1, math.ceil(refused.retry_after))
            reply = error(429, f"too many attempts; try again in {wait} s")
            reply.headers["Retry-After"] = str(wait)
            return reply
        except BadCredentials:
            return error(401, "wrong username or password")
        reply = response.json({"user": _user_view(session), "csrf_token": session.csrf_token})
        reply.cookies[COOKIE] = session.token
        cookie = reply.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/console"
        cookie["max-age"] = int(ctx().session_lifetime.total_seconds())
        if ctx().secure_cookies:
            cookie["secure"] = True
        return reply

    @route("/console/api/logout", ["POST"], "logout")
    async def logout(request: Request) -> HTTPResponse:
        await blocking(ctx().auth.logout, request.cookies.get(COOKIE) or "")
        reply = response.json({"ok": True})
        reply.cookies[COOKIE] = ""
        reply.cookies[COOKIE]["path"] = "/console"
        reply.cookies[COOKIE]["max-age"] = 0
        return reply

    @route("/console/api/me", ["GET"], "me")
    async def me(request: Request) -> HTTPResponse:
        session = request.ctx.session
        member = ctx().desk.model.staff.get(session.staff_id or "")
        return response.json({
            **_user_view(session),
            "name": member.name if member else session.username,
            "csrf_token": session.csrf_token,
        })  # fmt: skip

    @route("/console/api/queue", ["GET"], "queue")
    async def queue(request: Request) -> HTTPResponse:
        desk = ctx().desk
        actor = actor_of(request)
        moment = now()
        visible = await blocking(desk.visible, actor)
        stages = await blocking(_stages, [h.lead_id for h in visible])
        statuses = await blocking(desk.store.statuses)
        online = await blocking(desk.store.online, moment, ONLINE_WITHIN)
        return response.json({
            "handoffs": [handoff_summary(h, desk.model, moment, stages.get(h.lead_id))
                         for h in visible],
            "staff": [
                {"id": sid, "name": m.name, "team": m.team, "languages": list(m.languages),
                 "online": sid in online}
                for sid, m in desk.model.staff.items()
            ],
            "teams": [{"key": k, "label": t.label.get("en") or k}
                      for k, t in desk.model.teams.items()],
            "status": statuses.get(actor.staff_id or "", ("away", None))[0],
        })  # fmt: skip

    def _stages(lead_ids: list[int | None]) -> dict[int, str | None]:
        crm = ctx().crm
        return crm.stages(i for i in lead_ids if i is not None) if crm else {}

    @route("/console/api/presence", ["PUT"], "presence")
    async def presence(request: Request) -> HTTPResponse:
        status = body_of(request).get("status")
        if status not in STATUSES:
            raise ValueError("status is available or away")
        actor = actor_of(request)
        if actor.staff_id is None:
            raise NotAllowed("this login is not a staff member")
        await blocking(ctx().desk.store.touch_presence, actor.staff_id, status)
        return response.json({"status": status})

    @route("/console/api/events", ["GET"], "events")
    async def events(request: Request) -> HTTPResponse | None:
        feed = app.ctx.feed
        actor = actor_of(request)
        token = request.cookies.get(COOKIE) or ""
        stream = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        last = feed.current
        await stream.send(f"event: change\ndata: {last}\n\n")
        checked = -HEARTBEAT
        while True:
            if time.monotonic() - checked >= HEARTBEAT:  # presence and session, not per change
                checked = time.monotonic()
                if actor.staff_id:
                    await blocking(ctx().desk.store.heartbeat, actor.staff_id)
                try:
                    await blocking(ctx().auth.session, token)
                except InvalidSession:
                    await stream.send("event: logout\ndata: {}\n\n")
                    break
            changed = await feed.wait(last, timeout=HEARTBEAT)
            if changed > last:
                last = changed
                await stream.send(f"event: change\ndata: {last}\n\n")
            else:
                await stream.send(": still here\n\n")
        await stream.eof()
        return None

    @route("/console/api/handoffs/<handoff_id:int>", ["GET"], "handoff")
    async def handoff_detail(request: Request, handoff_id: int) -> HTTPResponse:
        desk = ctx().desk
        actor = actor_of(request)
        handoff = await blocking(desk.readable, handoff_id, actor)
        feed = await blocking(desk.store.messages, handoff.conversation_id)
        tracker_events, bot_note = [], None
        if ctx().bot is not None:
            try:
                tracker_events = await blocking(ctx().bot.tracker_events, handoff.conversation_id)
            except BotUnavailable:
                bot_note = "the bot's part of the conversation is not available right now"
        card = None
        lead_id = await blocking(_lead_id, handoff, False)
        if lead_id is not None:
            card = await blocking(lead_card, ctx().crm, lead_id, now())
        elif ctx().crm is not None:
            card = empty_card()
        notes = await blocking(desk.store.notes, handoff.id)
        history = await blocking(desk.store.events, handoff.id)
        # Handed back or passed on while this was read: what was read is not shown.
        handoff = await blocking(desk.readable, handoff_id, actor)
        return response.json({
            "handoff": handoff_summary(handoff, desk.model, now(), (card or {}).get("stage")),
            "transcript": transcript(tracker_events, feed),
            "transcript_note": bot_note,
            "notes": [note_view(n) for n in notes],
            "lead": card,
            "events": [{"kind": e.kind, "actor": e.actor, "at": e.at.isoformat()} for e in history],
        })  # fmt: skip

    @route("/console/api/handoffs/<handoff_id:int>/claim", ["POST"], "claim")
    async def claim(request: Request, handoff_id: int) -> HTTPResponse:
        desk = ctx().desk
        claimed = await blocking(desk.claim, handoff_id, actor_of(request))
        return response.json(handoff_summary(claimed, desk.model, now()))

    @route("/console/api/handoffs/<handoff_id:int>/messages", ["POST"], "reply")
    async def reply(request: Request, handoff_id: int) -> HTTPResponse:
        text = text_of(body_of(request), "text")
        message = await blocking(ctx().desk.reply, handoff_id, actor_of(request), text)
        return response.json(message_view(message), status=201)

    @route("/console/api/handoffs/<handoff_id:int>/notes", ["POST"], "note")
    async def note(request: Request, handoff_id: int) -> HTTPResponse:
        text = text_of(body_of(request), "text")
        await blocking(ctx().desk.note, handoff_id, actor_of(request), text)
        return response.json({"ok": True}, status=201)

    @route("/console/api/handoffs/<handoff_id:int>/transfer", ["POST"], "transfer")
    async def transfer(request: Request, handoff_id: int) -> HTTPResponse:
        body = body_of(request)
        staff_id, team = body.get("staff_id"), body.get("team")
        if not all(value is None or isinstance(value, str) for value in (staff_id, team)):
            return error(422, "staff_id and team must be text")
        desk = ctx().desk
        moved = await blocking(desk.transfer, handoff_id, actor_of(request), staff_id, team)
        return response.json(handoff_summary(moved, desk.model, now()))

    @route("/console/api/handoffs/<handoff_id:int>/hand-back", ["POST"], "hand_back")
    async def hand_back(request: Request, handoff_id: int) -> HTTPResponse:
        desk = ctx().desk
        back = await blocking(desk.hand_back, handoff_id, actor_of(request))
        return response.json(handoff_summary(back, desk.model, now()))

    @route("/console/api/handoffs/<handoff_id:int>/close", ["POST"], "close")
    async def close(request: Request, handoff_id: int) -> HTTPResponse:
        body = body_of(request)
        outcome = body.get("outcome")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome is one of {', '.join(OUTCOMES)}")
        reason = str(body.get("reason") or "")[:500]
        verdict = body.get("lead_verdict")
        desk = ctx().desk
        actor = actor_of(request)
        handoff = await blocking(desk.readable, handoff_id, actor)  # before the lead is looked up
        if verdict is not None:
            if verdict not in ("accept", "reject") or not reason.strip():
                raise ValueError("a lead verdict is accept or reject, with a reason")
            lead_id = await blocking(_lead_id, handoff, False)
            if lead_id is None:
                raise ValueError("this conversation has no lead to accept or reject")
        closed = await blocking(desk.close, handoff_id, actor, outcome, reason)
        if verdict is not None:  # only once the close went through: a retry adds nothing twice
            await blocking(_verdict, lead_id, verdict, reason, actor.username)
        return response.json(handoff_summary(closed, desk.model, now()))

    def _lead_id(handoff: Handoff, create: bool) -> int | None:
        """The lead of the handoff's conversation (it may have been made after the
        request, e.g. by the qualification); with `create`, made if there is none."""
        crm = ctx().crm
        if crm is None:
            return None
        if handoff.lead_id is not None:
            return handoff.lead_id
        visit = Visit(handoff.conversation_id, handoff.channel or "unknown", None, handoff.language)
        lead = crm.lead_for(visit) if create else crm.find_lead(visit)
        return lead.lead_id if lead is not None else None

    def _verdict(lead_id: int, decision: str, reason: str, by: str) -> None:
        crm = ctx().crm
        give_verdict(crm, crm.lead(lead_id), decision, reason, by, load_scoring_model(), now())

    @route("/console/api/handoffs/<handoff_id:int>/answers", ["POST"], "answer")
    async def answer(request: Request, handoff_id: int) -> HTTPResponse:
        body = body_of(request)
        attribute = text_of(body, "attribute", 64)
        text = text_of(body, "text", 300)
        desk = ctx().desk
        actor = actor_of(request)
        handoff = await blocking(desk.readable, handoff_id, actor)
        lead_id = await blocking(_lead_id, handoff, True)  # the agent's answer makes one
        if lead_id is None:
            raise ValueError("no CRM store is configured")
        card = await blocking(
            change_answer, ctx().crm, interpreter(), lead_id, attribute, text,
            handoff.language, handoff.conversation_id, now(),
        )  # fmt: skip
        await blocking(desk.readable, handoff_id, actor)  # still theirs: the card is shown
        return response.json(card)

    @route("/console/api/users", ["GET"], "users")
    async def users(request: Request) -> HTTPResponse:
        _admin(request)
        listed = await blocking(ctx().auth.users)
        return response.json({"users": [
            {"username": u.username, "role": u.role, "staff_id": u.staff_id,
             "display_name": u.display_name, "active": u.active}
            for u in listed
        ]})  # fmt: skip

    @route("/console/api/users", ["POST"], "add_user")
    async def add_user(request: Request) -> HTTPResponse:
        _admin(request)
        body = body_of(request)
        staff_id = body.get("staff_id") or None
        display_name = body.get("display_name") or None
        if staff_id is not None and (
            not isinstance(staff_id, str) or staff_id not in ctx().desk.model.staff
        ):
            raise ValueError("unknown staff id")
        if display_name is not None and not isinstance(display_name, str):
            raise ValueError("`display_name` must be a text")
        user = await blocking(
            ctx().auth.add_user, text_of(body, "username", 64), text_of(body, "password", 256),
            text_of(body, "role", 16), staff_id, display_name,
        )  # fmt: skip
        return response.json({"username": user.username, "role": user.role}, status=201)

    @route("/console/api/users/<username:str>/active", ["POST"], "user_active")
    async def user_active(request: Request, username: str) -> HTTPResponse:
        _admin(request)
        active = body_of(request).get("active")
        if not isinstance(active, bool):
            raise ValueError("`active` must be true or false")
        await blocking(ctx().auth.set_active, username, active)
        return response.json({"username": username, "active": active})

    def privacy_request(
        request: Request, what: str, confirmed: bool = False
    ) -> tuple[PersonalStores, str | None, str | None] | HTTPResponse:
        """The stores and the person an admin's privacy request names, or its refusal."""
        _admin(request, what)
        try:
            body = body_of(request)
            email, phone = person_of(body.get("email"), body.get("phone"))
        except ValueError as bad:
            return error(400, str(bad))
        if confirmed and body.get("confirm") is not True:
            return error(400, "erasing cannot be undone: send `confirm: true`")
        if ctx().privacy is None:
            return error(503, "the console has no access to the personal data stores")
        return ctx().privacy, email, phone

    # A POST with the person in the body: an email or number in a URL would stay in
    # proxy logs and the browser's history.
    @route("/console/api/privacy/export", ["POST"], "privacy_export")
    async def privacy_export(request: Request) -> HTTPResponse:
        named = privacy_request(request, "export a person's data")
        if isinstance(named, HTTPResponse):
            return named
        stores, email, phone = named
        export = partial(DataExport(stores).export, email, phone,
                         requested_by=request.ctx.session.username)  # fmt: skip
        document = await blocking(_privately, export)
        return response.text(as_text(document) + "\n", content_type="application/json", headers={
            "Content-Disposition":
                f'attachment; filename="lotse-export-{document["exported_at"][:10]}.json"',
            "Cache-Control": "no-store",
        })  # fmt: skip

    @route("/console/api/privacy/erase", ["POST"], "privacy_erase")
    async def privacy_erase(request: Request) -> HTTPResponse:
        named = privacy_request(request, "erase a person's data", confirmed=True)
        if isinstance(named, HTTPResponse):
            return named
        stores, email, phone = named
        erase = partial(DataErasure(stores).erase, email, phone,
                        requested_by=request.ctx.session.username)  # fmt: skip
        erased = await blocking(_privately, erase)
        return response.json({"leads": erased.leads, "conversations": erased.conversations})


def _admin(request: Request, what: str = "manage users") -> None:
    if request.ctx.session.role != "admin":
        raise NotAllowed(f"only an admin may {what}")


def _privately(work: Callable[[], T]) -> T:
    with PRIVACY_LOCK:
        return work()
