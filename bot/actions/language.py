"""The visitor asks to continue in the other language."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language

_NAMES = {
    "en": ("englisch", "english", "engl"),
    "de": ("deutsch", "german", "germ"),
}


def requested_language(text: str, current: str) -> str:
    """The language named in `text`; the other one when none is named."""
    lowered = text.lower()
    for language, names in _NAMES.items():
        if any(name in lowered for name in names):
            return language
    return "en" if current == "de" else "de"


class ActionSwitchLanguage(Action):
    def name(self) -> str:
        return "action_switch_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        current = conversation_language(tracker)
        language = requested_language(tracker.latest_message.get("text") or "", current)
        dispatcher.utter_message(response=f"utter_language_switched_{language}")
        return [SlotSet("language", language)]
