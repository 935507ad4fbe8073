"""The visitor asks to continue in the other language."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import conversation_language
from dialogue.language import requested_language


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
