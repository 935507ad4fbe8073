"""Handing a conversation to a person: the request, the bot's return, an unclaimed wait.

Thin: the conversation's facts (language, reason, what the CRM knows about the lead)
become an `Ask`; the desk (`handoff.desk`) routes and queues it, or says why no one
can take it now (outside office hours), and the bot says so. A custom message
`{"handoff": {...}}` tells the website widget to show the waiting state and to
listen for the person's messages.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.conversation import channel_name, conversation_language, current_page
from bot.actions.leads import crm, visit_of
from crm_adapter.port import CrmError
from dialogue.qualification.flow import State
from handoff.desk import Ask, Queued, Unavailable
from handoff.routing_facts import routing_request
from handoff.texts import load_handoff_texts
from wiring.services import desk

log = logging.getLogger(__name__)

OFFER_PREFIX = "utter_offer_human_"
REASONS = ("visitor_asked", "out_of_scope", "out_of_depth", "not_understood", "rule", "sales_ready")
BOOKKEEPING_ACTIONS = ("action_listen", "action_extract_slots")
REPHRASE_ACTION = "utter_ask_rephrase"


def _last_bot_action(tracker: Tracker) -> str:
    """The bot's last real action before the visitor's latest message."""
    earlier = list(reversed(tracker.events))
    first_user = next((i for i, e in enumerate(earlier) if e.get("event") == "user"), None)
    if first_user is None:
        return ""
    return next(
        (
            e.get("name") or ""
            for e in earlier[first_user + 1 :]
            if e.get("event") == "action" and e.get("name") not in BOOKKEEPING_ACTIONS
        ),
        "",
    )


def offer_reason(tracker: Tracker) -> str | None:
    """Why the bot offered a person, when the visitor is answering that offer.

    The offer's response name carries the reason (`utter_offer_human_<reason>`); a
    second "not understood" in a row follows the request to rephrase.
    """
    name = _last_bot_action(tracker)
    if name == REPHRASE_ACTION:
        return "not_understood"
    reason = name.removeprefix(OFFER_PREFIX) if name.startswith(OFFER_PREFIX) else None
    return reason if reason in REASONS else None


def last_topic(tracker: Tracker) -> str | None:
    """The FAQ topic of the visitor's latest question on one, if any."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
        if intent.startswith("faq_"):
            return intent.removeprefix("faq_")
    return None


def ask_of(tracker: Tracker, reason: str) -> Ask:
    language = conversation_language(tracker)
    lead = None
    try:
        lead = crm().find_lead(visit_of(tracker, language))
    except CrmError:
        log.exception("handoff: the CRM store failed; routing without the lead's answers")
    return Ask(
        conversation_id=tracker.sender_id,
        reason=reason,
        routing=routing_request(lead, language, reason, last_topic(tracker),
                                tracker.latest_message.get("text") or "",
                                load_handoff_texts()),  # fmt: skip
        channel=channel_name(tracker),
        page=current_page(tracker),
        lead_id=lead.lead_id if lead else None,
    )


def offer_callback(
    dispatcher: CollectingDispatcher, result: Unavailable, language: str
) -> list[EventType]:
    dispatcher.utter_message(text=result.text)
    dispatcher.utter_message(response=f"utter_offer_callback_{language}")
    return [SlotSet("handoff_person", result.person), SlotSet("handoff_team", result.team)]


def queue_for_person(tracker: Tracker, reason: str) -> Queued | Unavailable | None:
    """Queues the conversation (or finds nobody there now); None if the store failed."""
    try:
        return desk().request(ask_of(tracker, reason))
    except (SQLAlchemyError, OSError):
        log.exception("could not queue a handoff (reason %s)", reason)
        return None


def widget_notice(dispatcher: CollectingDispatcher, result: Queued) -> None:
    """Tells the website widget to show the queue and to listen for the person."""
    dispatcher.utter_message(
        json_message={"handoff": {"state": result.handoff.state, "position": result.position,
                                  "minutes": result.minutes}}
    )  # fmt: skip


def request_handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str
) -> list[EventType]:
    language = conversation_language(tracker)
    result = queue_for_person(tracker, reason)
    if result is None:
        dispatcher.utter_message(text=load_handoff_texts().text("failed", language))
        return []
    if isinstance(result, Queued):
        dispatcher.utter_message(text=result.text)
        widget_notice(dispatcher, result)
        return [SlotSet("handoff_requested", True)]
    return [SlotSet("handoff_requested", True), *offer_callback(dispatcher, result, language)]


def pause_for_person(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    qualification: dict[str, Any],
    reason: str = "visitor_asked",
    lead_in: str = "",
) -> list[EventType]:
    """A wish for a person in the middle of the qualification. The form ends for now,
    with the handoff's message as its closing line (and the callback offer's buttons
    when nobody can take it); its state keeps the open question, so a hand-back
    resumes it (ActionResumeAfterHandoff). `lead_in` comes before the handoff's message
    (the qualification's own closing line, when it hands over a sales-ready lead)."""
    language = conversation_language(tracker)
    result = queue_for_person(tracker, reason)
    events: list[EventType] = [SlotSet("qualification", qualification)]
    if result is None:
        closing = load_handoff_texts().text("failed", language)
    elif isinstance(result, Queued):
        widget_notice(dispatcher, result)
        closing = result.text
        events.append(SlotSet("handoff_requested", True))
    else:
        closing = result.text
        events += [
            SlotSet("handoff_requested", True),
            SlotSet("handoff_offer", True),
            SlotSet("handoff_person", result.person),
            SlotSet("handoff_team", result.team),
        ]
    return [
        *events,
        SlotSet("qualification_prompt", f"{lead_in} {closing}".strip()),
        SlotSet("qualification_yes_no", False),
        SlotSet("qualification_answer", "done"),
        SlotSet("requested_slot", None),
    ]


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return request_handoff(dispatcher, tracker, offer_reason(tracker) or "visitor_asked")


class ActionHandoffUnavailable(Action):
    """Nobody claimed the conversation in time: say so and offer a callback or meeting."""

    def name(self) -> str:
        return "action_handoff_unavailable"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        the_desk = desk()
        latest = the_desk.store.latest(tracker.sender_id)
        ask = ask_of(tracker, latest.reason if latest else "visitor_asked")
        now = the_desk.clock()
        decision = the_desk.route(ask.routing, now)
        result = the_desk.unavailable(decision, language, now, "nobody_free")
        return offer_callback(dispatcher, result, language)


class ActionResumeAfterHandoff(Action):
    """The person handed the conversation back: the bot says it is back, knowing who
    talked to the visitor (the qualification resumes in its own form when one runs)."""

    def name(self) -> str:
        return "action_resume_after_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        the_desk = desk()
        latest = the_desk.store.latest(tracker.sender_id)
        person = the_desk.person_label(latest.assignee if latest else None, language)
        dispatcher.utter_message(
            response=f"utter_handed_back_{language}",
            person=person or ("unserem Team" if language == "de" else "our team"),
        )
        events: list[EventType] = [SlotSet("handoff_requested", False)]
        if State.from_slot(tracker.get_slot("qualification")).asking is not None:
            # The qualification was paused for the person: it goes on where it stopped.
            events += [SlotSet("qualification_answer", None), FollowupAction("qualification_form")]
        else:  # how the person helped, 1-5 (the insights dashboard's CSAT)
            dispatcher.utter_message(response="utter_ask_rating_after_handoff")
        return events
