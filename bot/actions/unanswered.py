"""Noting a question the bot could not answer, for the insights dashboard.

Runs before the bot's "please rephrase" or "shall I ask a person" (rules in
bot/data/rules/handoff.yml). Keeps the visitor's words only while a consent is on
record whose wording covers them (`insights/unanswered.py`); otherwise only that a
question went unanswered. Nothing for a conversation erased a moment ago. A failing
store is logged (without the text) and the conversation goes on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.conversation import conversation_language
from bot.actions.leads import crm, visit_of
from crm_adapter.port import CrmError, Lead
from dialogue.qualification.questions import load_questionnaire
from insights.unanswered import UnansweredQuestions
from wiring.services import services

log = logging.getLogger(__name__)


def unanswered_questions() -> UnansweredQuestions:
    return services().unanswered


class ActionNoteUnanswered(Action):
    def name(self) -> str:
        return "action_note_unanswered"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        kind = (message.get("intent") or {}).get("name") or "nlu_fallback"
        try:
            questions = unanswered_questions()
            if questions.erased.recent([tracker.sender_id]):  # erased during this turn
                return []
            lead = crm().find_lead(visit_of(tracker, conversation_language(tracker)))
            text = message.get("text") if lead is not None and keeps_texts(lead) else None
            questions.add(tracker.sender_id, time.time(), kind, text)
        except (CrmError, SQLAlchemyError) as error:
            # No traceback: SQLAlchemy's error names the statement's parameters (the text).
            log.error("could not note an unanswered question (%s)", type(error).__name__)
        return []


def keeps_texts(lead: Lead) -> bool:
    """Whether the visitor's consent covers keeping what the bot could not answer: one
    given to the wording that says so (bot/data/qualification.yml `consent`)."""
    consent, text = lead.consent, load_questionnaire().consent
    return consent is not None and text.covers_unanswered and consent.text_version == text.version
