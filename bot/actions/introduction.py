"""A visitor introduces their company before any question ("Wir sind ein Metallbauer
aus Linz mit 60 Leuten"): the facts are noted in the CRM store and shown back.

Thin: the facts are read by the qualification's interpreter (`dialogue.qualification`),
stored as anonymous answers (no consent needed: nothing personal; email, name and
phone are left out) for questions the lead has no answer to yet, and the rule that
runs this action offers the enquiry next. A store failure is logged without the text
and the facts are not shown as noted; they stay in the conversation, and the
qualification reads them again when it begins.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language
from bot.actions.leads import crm, visit_of
from bot.actions.qualification import INTERPRETER
from crm_adapter.port import ANSWERED, Answer, CrmError, CrmUnavailable
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from dialogue.qualification.questions import load_questionnaire
from dialogue.qualification.replies import Replies
from dialogue.qualification.state import Reading

log = logging.getLogger(__name__)


def company_facts(text: str, language: str, now: datetime) -> list[Reading]:
    """What the text says about the company; nothing personal."""
    questionnaire = load_questionnaire()
    personal = {q.key for q in questionnaire.questions if q.personal}
    return [
        reading
        for reading in INTERPRETER.volunteered(text, language, now.date())
        if reading.key in questionnaire.keys and reading.key not in personal
    ]


class ActionNoteFacts(Action):
    def name(self) -> str:
        return "action_note_facts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        now = datetime.now(timezone.utc)
        facts = company_facts(tracker.latest_message.get("text") or "", language, now)
        if not facts:
            return []
        try:
            store = crm()
            lead = store.lead_for(visit_of(tracker, language))
            new = [r for r in facts if r.key not in lead.answers]
            answers = [Answer(r.key, r.value, ANSWERED, now, conversation_id=tracker.sender_id)
                       for r in new if not r.unknown]  # fmt: skip
            record(store, lead, Learnt(tracker.sender_id, answers=answers),
                   load_scoring_model(), now)  # fmt: skip
        except CrmUnavailable:
            raise  # the turn fails and is sent again (bot/loud_actions.py)
        except CrmError:
            log.exception("introduction: the CRM store failed; the facts were not noted")
            return []
        replies = Replies(language)
        items = replies.listing([(r.key, r.shown) for r in facts])
        dispatcher.utter_message(text=replies.text("introduction_noted", items=items))
        return []
