"""A product question answered from the company's documents, with its source.

Thin: the message reader sent the question here (`document_question`: no FAQ topic
fits it, or the classifier placed it nowhere but its words are the documents');
`knowledge.answering` finds the passage that holds what was asked. Found: the answer
and its source (`utter_document_answer`), and the slot `document_answered` true. Not
found, or the index failing: the slot false, and the rules note the question as
unanswered and offer a person (`utter_offer_human_out_of_depth`): never a near answer.
No visitor text is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language
from knowledge.answering import Answer
from knowledge.index import IndexError_
from wiring.services import services

log = logging.getLogger(__name__)
ANSWERED_SLOT = "document_answered"
SOURCE_RESPONSE = "utter_document_answer"


def source_label(answer: Answer, language: str) -> str:
    page = answer.source.page
    if page is None:
        return answer.source.title
    return f"{answer.source.title}, {'Seite' if language == 'de' else 'page'} {page}"


class ActionAnswerFromDocuments(Action):
    def name(self) -> str:
        return "action_answer_from_documents"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        question = (tracker.latest_message or {}).get("text") or ""
        language = conversation_language(tracker)
        try:
            answer = services().documents.answer(question, language)
        except IndexError_ as error:
            log.error("the document index failed (%s)", error)
            answer = None
        if answer is None:
            return [SlotSet(ANSWERED_SLOT, False)]
        dispatcher.utter_message(response=SOURCE_RESPONSE, answer=answer.text,
                                 source=source_label(answer, language))  # fmt: skip
        return [SlotSet(ANSWERED_SLOT, True)]
