"""The greeting, which names the page the visitor is on, from the content file.

FAQ answers themselves are domain responses generated from the same file
(`lotse build`), so answering costs no call to this action server.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language, current_page
from bot.content import Content, load_content

CONTENT: Content = load_content()


def context_events(tracker: Tracker, language: str) -> list[EventType]:
    """Slots that pin the conversation's language and page once they are known."""
    events: list[EventType] = []
    if tracker.get_slot("language") != language:
        events.append(SlotSet("language", language))
    page = current_page(tracker)
    if page and tracker.get_slot("page") != page:
        events.append(SlotSet("page", page))
    return events


class ActionGreet(Action):
    """Greets, and says what the page the visitor is on is about."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        dispatcher.utter_message(response=f"utter_greet_{language}")
        page = CONTENT.pages.get(current_page(tracker) or "")
        if page is not None:
            topic = CONTENT.topics[page.topic]
            dispatcher.utter_message(
                text=page.intro[language],
                buttons=CONTENT.buttons([*topic.suggestions, topic.key], language),
            )
        return context_events(tracker, language)
