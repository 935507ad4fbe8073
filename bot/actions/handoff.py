"""Recording a visitor's request for a human expert (asked for, or an accepted offer)."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.conversation import channel_name, conversation_language, current_page
from handoff.requests import REASONS, HandoffRequest, HandoffRequests, make_engine
from lotse.settings import load_settings

log = logging.getLogger(__name__)

OFFER_PREFIX = "utter_offer_human_"


@lru_cache(maxsize=1)
def handoff_store() -> HandoffRequests:
    return HandoffRequests(make_engine(load_settings().database_url))


BOOKKEEPING_ACTIONS = ("action_listen", "action_extract_slots")


def offer_reason(tracker: Tracker) -> str | None:
    """Why the bot offered a human, when the visitor is answering that offer.

    Looks at the bot's last real action before the visitor's latest message: if it was
    an offer (`utter_offer_human_<reason>`), its name carries the reason.
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
    name = before[last_action].get("name", "") if last_action is not None else ""
    reason = name.removeprefix(OFFER_PREFIX) if name.startswith(OFFER_PREFIX) else None
    return reason if reason in REASONS else None


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
