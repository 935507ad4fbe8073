"""Custom actions against tracker fixtures (tests/fixtures/trackers/*.json); each test
asserts the full list of events an action returns and what it says."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.events import SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.language import ActionSwitchLanguage, requested_language
from bot.actions.session import ActionSessionStart

FIXTURES = Path(__file__).parents[1] / "fixtures" / "trackers"


def tracker(name: str, **changes: object) -> Tracker:
    state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        state["slots"][key] = value
    return Tracker.from_dict(state)


def run(action: object, tracker_: Tracker) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))  # type: ignore[attr-defined]
    return events, dispatcher


def test_switching_language_names_the_language_or_toggles():
    events, dispatcher = run(ActionSwitchLanguage(), tracker("asks_for_person_en"))
    assert events == [SlotSet("language", "de")]
    assert [m["response"] for m in dispatcher.messages] == ["utter_language_switched_de"]
    assert requested_language("Können wir auf Englisch weitermachen?", "de") == "en"
    assert requested_language("Can we speak German?", "en") == "de"


def test_session_start_takes_language_and_page_from_metadata():
    events, _ = run(ActionSessionStart(), tracker("greet_on_presses_page_no_language"))
    assert events[0] == SessionStarted()
    assert SlotSet("page", "presses") in events
    unknown = tracker("greet_on_presses_page_no_language", session_started_metadata={"page": "x"})
    assert not [e for e in run(ActionSessionStart(), unknown)[0] if e.get("name") == "page"]
    assert SlotSet("handoff_requested", False) in events
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
