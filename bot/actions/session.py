"""Session start: take the language and page from the channel's metadata."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import page_key, session_metadata
from dialogue.content import Content, load_content
from dialogue.experiments import load_experiments
from dialogue.language import normalise_language

CONTENT: Content = load_content()

CARRIED_SLOTS = ("language", "page", "handoff_requested")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = session_metadata(tracker)
        events: list[EventType] = [SessionStarted()]
        events += [
            SlotSet(name, tracker.get_slot(name))
            for name in CARRIED_SLOTS
            if tracker.get_slot(name) is not None
        ]
        language = normalise_language(metadata.get("language"))
        if language and tracker.get_slot("language") is None:
            events.append(SlotSet("language", language))
        page = page_key(metadata)
        if page in CONTENT.pages:  # the greeting's line is chosen by this slot
            events.append(SlotSet("page", page))
        # A/B tests of messages (bot/data/experiments.yml): the same variant every session.
        events += [SlotSet(e.slot, e.assign(tracker.sender_id)) for e in load_experiments()]
        events.append(ActionExecuted("action_listen"))
        return events
