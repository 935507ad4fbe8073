"""Answers to the FAQ topics, in the visitor's language, from the content file."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language, current_page
from bot.content import Content, Topic, load_content

CONTENT: Content = load_content()


def suggestion_buttons(topic: Topic, content: Content, language: str) -> list[dict[str, str]]:
    return [
        {"title": content.topics[key].title[language], "payload": "/" + content.topics[key].intent}
        for key in topic.suggestions
    ]


def context_events(tracker: Tracker, language: str) -> list[EventType]:
    """Slots that pin the conversation's language and page once they are known."""
    events: list[EventType] = []
    if tracker.get_slot("language") != language:
        events.append(SlotSet("language", language))
    page = current_page(tracker)
    if page and tracker.get_slot("page") != page:
        events.append(SlotSet("page", page))
    return events


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = conversation_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = CONTENT.topic_for_intent(intent)
        if topic is None:
            dispatcher.utter_message(response="utter_default")
            return context_events(tracker, language)
        dispatcher.utter_message(
            text=topic.answer[language],
            buttons=suggestion_buttons(topic, CONTENT, language),
        )
        return [*context_events(tracker, language), SlotSet("last_topic", topic.key)]


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
                buttons=suggestion_buttons(topic, CONTENT, language)
                + [{"title": topic.title[language], "payload": "/" + topic.intent}],
            )
        return context_events(tracker, language)
