"""One conversation with a person: its detail (transcript, the bot's part, lead card,
notes), claim, reply, note, transfer, hand-back, close (with a lead verdict) and the
agent's corrections of the lead's answers.

Every route that reads a conversation by handoff id asks `Desk.readable` first, the one
rule of `handoff.ownership.may_read`, and a route that read something asks again before
answering: a former assignee gets 403.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from console.i18n import session_language, translator, wording
from console.lead_card import change_answer, empty_card, lead_card
from console.routing import Routes, blocking
from console.summary import summarise
from console.views import handoff_summary, message_view, note_view, transcript
from console.web import actor_of, body_of, error, text_of
from crm_adapter.port import PERSONAL_ATTRIBUTES, Visit
from crm_adapter.scoring_model import load_scoring_model
from crm_adapter.verdict import give_verdict
from dialogue.content import load_content
from dialogue.qualification.interpret import AnswerInterpreter
from dialogue.qualification.questions import load_questionnaire
from handoff.bot_port import BotUnavailable
from handoff.store import Handoff

OUTCOMES = ("resolved", "lead_accepted", "lead_rejected", "no_answer", "spam", "other")


@lru_cache(maxsize=1)
def interpreter() -> AnswerInterpreter:
    return AnswerInterpreter()


@lru_cache(maxsize=1)
def topic_titles() -> dict[str, dict[str, str]]:
    return {key: dict(topic.title) for key, topic in load_content().topics.items()}


@lru_cache(maxsize=1)
def personal_questions() -> frozenset[str]:
    personal = {q.key for q in load_questionnaire().questions if q.personal}
    return frozenset(personal | PERSONAL_ATTRIBUTES)


def summary_of(handoff: Handoff, tracker_events: list[dict[str, Any]],
               card: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """The summary at the top of the conversation (`console.summary`), as JSON."""
    return asdict(summarise(handoff, tracker_events, card, topic_titles(), personal_questions()))


def register(routes: Routes) -> None:  # noqa: C901 - the routes of one resource
    def row_of(handoff: Handoff, request: Request) -> dict[str, Any]:
        """The handoff's queue row, in the staff member's language, after an action."""
        return handoff_summary(handoff, routes.console.desk.model, routes.now(),
                               language=session_language(request))  # fmt: skip

    def lead_id_of(handoff: Handoff, create: bool) -> int | None:
        """The lead of the handoff's conversation (it may have been made after the
        request, e.g. by the qualification); with `create`, made if there is none."""
        crm = routes.console.crm
        if crm is None:
            return None
        if handoff.lead_id is not None:
            return handoff.lead_id
        visit = Visit(handoff.conversation_id, handoff.channel or "unknown", None, handoff.language)
        lead = crm.lead_for(visit) if create else crm.find_lead(visit)
        return lead.lead_id if lead is not None else None

    def verdict_on(lead_id: int, decision: str, reason: str, by: str) -> None:
        crm = routes.console.crm
        give_verdict(crm, crm.lead(lead_id), decision, reason, by, load_scoring_model(),
                     routes.now())  # fmt: skip

    @routes("/console/api/handoffs/<handoff_id:int>", ["GET"], "handoff")
    async def handoff_detail(request: Request, handoff_id: int) -> HTTPResponse:
        console = routes.console
        desk = console.desk
        actor = actor_of(request)
        handoff = await blocking(desk.readable, handoff_id, actor)
        feed = await blocking(desk.store.messages, handoff.conversation_id)
        tracker_events, bot_note = [], None
        if console.bot is not None:
            try:
                tracker_events = await blocking(console.bot.tracker_events, handoff.conversation_id)
            except BotUnavailable:
                bot_note = "the bot's part of the conversation is not available right now"
        card = None
        language = session_language(request)
        words = wording(translator(language))
        lead_id = await blocking(lead_id_of, handoff, False)
        if lead_id is not None:
            card = await blocking(lead_card, console.crm, lead_id, routes.now(), words)
        elif console.crm is not None:
            card = empty_card(words)
        notes = await blocking(desk.store.notes, handoff.id)
        history = await blocking(desk.store.events, handoff.id)
        summary = await blocking(summary_of, handoff, tracker_events, card)  # of what was read
        # Handed back or passed on while this was read: what was read is not shown.
        handoff = await blocking(desk.readable, handoff_id, actor)
        return response.json({
            "handoff": handoff_summary(handoff, desk.model, routes.now(),
                                       (card or {}).get("stage"), language),
            "summary": summary,
            "transcript": transcript(tracker_events, feed),
            "transcript_note": bot_note,
            "notes": [note_view(n) for n in notes],
            "lead": card,
            "events": [{"kind": e.kind, "actor": e.actor, "at": e.at.isoformat()} for e in history],
        })  # fmt: skip

    @routes("/console/api/handoffs/<handoff_id:int>/claim", ["POST"], "claim")
    async def claim(request: Request, handoff_id: int) -> HTTPResponse:
        desk = routes.console.desk
        claimed = await blocking(desk.claim, handoff_id, actor_of(request))
        return response.json(row_of(claimed, request))

    @routes("/console/api/handoffs/<handoff_id:int>/messages", ["POST"], "reply")
    async def reply(request: Request, handoff_id: int) -> HTTPResponse:
        text = text_of(body_of(request), "text")
        message = await blocking(routes.console.desk.reply, handoff_id, actor_of(request), text)
        return response.json(message_view(message), status=201)

    @routes("/console/api/handoffs/<handoff_id:int>/notes", ["POST"], "note")
    async def note(request: Request, handoff_id: int) -> HTTPResponse:
        text = text_of(body_of(request), "text")
        await blocking(routes.console.desk.note, handoff_id, actor_of(request), text)
        return response.json({"ok": True}, status=201)

    @routes("/console/api/handoffs/<handoff_id:int>/transfer", ["POST"], "transfer")
    async def transfer(request: Request, handoff_id: int) -> HTTPResponse:
        body = body_of(request)
        staff_id, team = body.get("staff_id"), body.get("team")
        if not all(value is None or isinstance(value, str) for value in (staff_id, team)):
            return error(422, "staff_id and team must be text")
        desk = routes.console.desk
        moved = await blocking(desk.transfer, handoff_id, actor_of(request), staff_id, team)
        return response.json(row_of(moved, request))

    @routes("/console/api/handoffs/<handoff_id:int>/hand-back", ["POST"], "hand_back")
    async def hand_back(request: Request, handoff_id: int) -> HTTPResponse:
        desk = routes.console.desk
        back = await blocking(desk.hand_back, handoff_id, actor_of(request))
        return response.json(row_of(back, request))

    @routes("/console/api/handoffs/<handoff_id:int>/close", ["POST"], "close")
    async def close(request: Request, handoff_id: int) -> HTTPResponse:
        body = body_of(request)
        outcome = body.get("outcome")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome is one of {', '.join(OUTCOMES)}")
        reason = str(body.get("reason") or "")[:500]
        verdict = body.get("lead_verdict")
        desk = routes.console.desk
        actor = actor_of(request)
        handoff = await blocking(desk.readable, handoff_id, actor)  # before the lead is looked up
        if verdict is not None:
            if verdict not in ("accept", "reject") or not reason.strip():
                raise ValueError("a lead verdict is accept or reject, with a reason")
            lead_id = await blocking(lead_id_of, handoff, False)
            if lead_id is None:
                raise ValueError("this conversation has no lead to accept or reject")
        closed = await blocking(desk.close, handoff_id, actor, outcome, reason)
        if verdict is not None:  # only once the close went through: a retry adds nothing twice
            await blocking(verdict_on, lead_id, verdict, reason, actor.username)
        return response.json(row_of(closed, request))

    @routes("/console/api/handoffs/<handoff_id:int>/answers", ["POST"], "answer")
    async def answer(request: Request, handoff_id: int) -> HTTPResponse:
        body = body_of(request)
        attribute = text_of(body, "attribute", 64)
        text = text_of(body, "text", 300)
        desk = routes.console.desk
        actor = actor_of(request)
        handoff = await blocking(desk.readable, handoff_id, actor)
        lead_id = await blocking(lead_id_of, handoff, True)  # the agent's answer makes one
        if lead_id is None:
            raise ValueError("no CRM store is configured")
        card = await blocking(
            change_answer, routes.console.crm, interpreter(), lead_id, attribute, text,
            handoff.language, handoff.conversation_id, routes.now(),
            wording(translator(session_language(request))),
        )  # fmt: skip
        await blocking(desk.readable, handoff_id, actor)  # still theirs: the card is shown
        return response.json(card)
