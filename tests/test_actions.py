"""Custom actions against tracker fixtures (tests/fixtures/trackers/*.json); each test
asserts the full list of events an action returns and what it says."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.events import SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionRequestHandoff, handoff_store
from bot.actions.language import ActionSwitchLanguage, requested_language
from bot.actions.session import ActionSessionStart

FIXTURES = Path(__file__).parent / "fixtures" / "trackers"


def tracker(name: str, **changes: object) -> Tracker:
    state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        state["slots"][key] = value
    return Tracker.from_dict(state)


def run(action: object, tracker_: Tracker) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))  # type: ignore[attr-defined]
    return events, dispatcher


def test_accepted_offer_records_a_handoff_request_with_its_reason():
    events, dispatcher = run(ActionRequestHandoff(), tracker("expert_offer_accepted_de"))
    assert events == [SlotSet("handoff_requested", True)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_requested_de"]
    [recorded] = handoff_store().for_conversation("web-test-2")
    assert (recorded.reason, recorded.language, recorded.channel, recorded.page) == (
        "out_of_depth",
        "de",
        "rest",
        "software",
    )


def test_a_visitor_asking_for_a_person_is_recorded_as_such():
    events, dispatcher = run(ActionRequestHandoff(), tracker("asks_for_person_en"))
    assert events == [SlotSet("handoff_requested", True)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_requested_en"]
    assert [r.reason for r in handoff_store().for_conversation("web-test-3")] == ["visitor_asked"]


def test_a_store_failure_is_told_honestly_and_nothing_claims_success(monkeypatch, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the database folder should be")
    monkeypatch.setenv("LOTSE_DATABASE_URL", f"sqlite:///{blocked / 'lotse.db'}")
    handoff_store.cache_clear()
    events, dispatcher = run(ActionRequestHandoff(), tracker("asks_for_person_en"))
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_failed_en"]


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
