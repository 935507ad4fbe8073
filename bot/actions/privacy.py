"""The visitor erases everything about themselves from the chat (DSGVO Art. 17).

After a withdrawal the bot offers a button, "Erase everything, this conversation
too" (`/erase_everything`). `action_erase_everything` then runs the same erasure as
`lotse privacy erase` (`privacy.erasure`) on the lead of this conversation, which
holds only what the visitor proved (this conversation, their browser's, and contacts
joined by a code or a platform's number, never one whose address was merely typed):
every conversation of the person, their handoffs' messages and notes, messenger
address, answers and identifiers, the erasure sent to connected CRMs, one audit row
("chat"). Mails are found by the conversations' ids only (`proven_only`): a typed
name or address may be someone else's. The current conversation is deleted at the end
of this turn by the tracker store (the `erased` slot, `bot/loud_tracker_store.py`);
the next message starts anew.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.conversation import conversation_language
from bot.actions.leads import crm, visit_of
from bot.loud_tracker_store import ERASED_SLOT
from crm_adapter.port import CrmError
from dialogue.qualification.replies import Replies
from privacy.erasure import DataErasure
from privacy.personal_stores import PersonalStores
from wiring.services import services

REQUESTED_BY = "chat"
log = logging.getLogger(__name__)


def personal_stores() -> PersonalStores:
    return services().personal_stores


class ActionEraseEverything(Action):
    def name(self) -> str:
        return "action_erase_everything"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        replies = Replies(conversation_language(tracker))
        try:
            lead = crm().lead_for(visit_of(tracker, replies.language))
            erased = DataErasure(personal_stores()).erase_leads(
                [lead], REQUESTED_BY, asked_in=tracker.sender_id, proven_only=True
            )
        except (CrmError, SQLAlchemyError) as error:
            log.error("erasure from the chat failed (%s)", type(error).__name__)
            dispatcher.utter_message(text=replies.text("withdraw_failed"))
            return []
        log.info("erasure from the chat: %d lead(s), %d conversation(s)",
                 erased.leads, erased.conversations)  # fmt: skip
        dispatcher.utter_message(text=replies.text("erased_everything"))
        return [SlotSet(ERASED_SLOT, True)]
