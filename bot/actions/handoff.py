"""Offering a human expert when the bot cannot answer, and recording the request."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.conversation import channel_name, conversation_language, current_page
from handoff.requests import HandoffRequest, HandoffRequests, make_engine
from lotse.settings import load_settings

log = logging.getLogger(__name__)

OFFER_REASONS = {
    "out_of_scope": "out_of_scope",
    "out_of_depth": "out_of_depth",
    "nlu_fallback": "not_understood",
}


@lru_cache(maxsize=1)
def handoff_store() -> HandoffRequests:
    return HandoffRequests(make_engine(load_settings().database_url))


BOOKKEEPING_ACTIONS = ("action_listen", "action_extract_slots")


def offer_reason(tracker: Tracker) -> str | None:
    """Why the bot offered a human, when the visitor is answering that offer.

    Looks at the bot's last real action before the visitor's latest message: if it was
    the offer, the reason is the intent of the message that caused the offer.
    """
    earlier = list(reversed(tracker.events))
    first_user = next((i for i, e in enumerate(earlier) if e.get("event") == "user"), None)
    if first_user is None:
        return None
    before = earlier[first_user + 1 :]
    last_action = next(
        (
            i
            for i, e in enumerate(before)
            if e.get("event") == "action" and e.get("name") not in BOOKKEEPING_ACTIONS
        ),
        None,
    )
    if last_action is None or before[last_action].get("name") != "action_offer_human":
        return None
    cause = next((e for e in before[last_action:] if e.get("event") == "user"), None)
    intent = ((cause or {}).get("parse_data") or {}).get("intent") or {}
    return OFFER_REASONS.get(intent.get("name"), "not_understood")


class ActionOfferHuman(Action):
    def name(self) -> str:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = OFFER_REASONS.get(intent, "not_understood")
        language = conversation_language(tracker)
        dispatcher.utter_message(response=f"utter_offer_human_{reason}_{language}")
        return [SlotSet("language", language)] if tracker.get_slot("language") is None else []


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        request = HandoffRequest(
            conversation_id=tracker.sender_id,
            reason=offer_reason(tracker) or "visitor_asked",
            language=language,
            channel=channel_name(tracker),
            page=current_page(tracker),
        )
        try:
            handoff_store().record(request)
        except (SQLAlchemyError, OSError):
            log.exception("could not record a handoff request (reason %s)", request.reason)
            dispatcher.utter_message(response=f"utter_handoff_failed_{language}")
            return []
        dispatcher.utter_message(response=f"utter_handoff_requested_{language}")
        return [SlotSet("handoff_requested", True)]
