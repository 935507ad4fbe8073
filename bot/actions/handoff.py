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


def offer_reason(tracker: Tracker) -> str | None:
    """Why the bot offered a human, if its last action before this turn was the offer."""
    offered = False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_offer_human":
            offered = True
        elif offered and event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            return OFFER_REASONS.get(intent.get("name"), "not_understood")
        elif (
            event.get("event") == "action"
            and event.get("name")
            not in ("action_listen", "action_request_handoff", "action_extract_slots")
            and not offered
        ):
            return None
    return None


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
