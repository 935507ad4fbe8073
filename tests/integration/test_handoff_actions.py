"""The handoff actions against tracker fixtures, with the desk's clock fixed: in office
hours a request is queued and routed, outside them the bot offers a callback or a
meeting, and a store failure is told honestly."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import handoff as handoff_actions
from handoff.desk import Desk
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine

FIXTURES = Path(__file__).parents[1] / "fixtures" / "trackers"
BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=BERLIN)


def tracker(name: str, **slots: object) -> Tracker:
    state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    state["slots"].update(slots)
    return Tracker.from_dict(state)


def run(action: object, tracker_: Tracker) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))  # type: ignore[attr-defined]
    return events, dispatcher


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Installs a desk whose clock says the given time; returns it."""

    def install(moment: datetime) -> Desk:
        store = HandoffStore(migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}"))
        desk = Desk(store, load_routing_model(), load_handoff_texts(), clock=lambda: moment)
        monkeypatch.setattr(handoff_actions, "desk", lambda: desk)
        return desk

    return install


def test_an_accepted_expert_offer_queues_the_conversation_for_technical_service(at):
    desk = at(TUESDAY_10)
    events, dispatcher = run(
        handoff_actions.ActionRequestHandoff(), tracker("expert_offer_accepted_de")
    )
    assert events == [SlotSet("handoff_requested", True)]
    [waiting] = desk.store.open_handoffs()
    assert (waiting.conversation_id, waiting.reason, waiting.need, waiting.team) == (
        "web-test-2", "out_of_depth", "service", "service",
    )  # fmt: skip
    assert (waiting.language, waiting.channel, waiting.page, waiting.state) == (
        "de", "rest", "software", "waiting",
    )  # fmt: skip
    assert waiting.rule == "technical_service" and waiting.assignee is None  # nobody online
    text, notice = dispatcher.messages
    assert "Technischer Service" in text["text"] and "Position 1" in text["text"]
    assert notice["custom"] == {"handoff": {"state": "waiting", "position": 1, "minutes": 2}}


def test_an_online_rep_gets_the_conversation_and_the_visitor_hears_their_name(at):
    desk = at(TUESDAY_10)
    for staff_id in ("tim", "eva"):
        desk.store.touch_presence(staff_id, "available", TUESDAY_10)
    run(handoff_actions.ActionRequestHandoff(), tracker("expert_offer_accepted_de"))
    [waiting] = desk.store.open_handoffs()
    assert waiting.assignee == "tim"
    assert any("Assigned to Tim" in line for line in waiting.explanation)


def test_a_second_request_while_waiting_is_the_same_handoff(at):
    desk = at(TUESDAY_10)
    run(handoff_actions.ActionRequestHandoff(), tracker("asks_for_person_en"))
    run(handoff_actions.ActionRequestHandoff(), tracker("asks_for_person_en"))
    assert len(desk.store.for_conversation("web-test-3")) == 1


def test_a_visitor_asking_for_a_person_without_details_waits_in_the_sales_queue(at):
    desk = at(TUESDAY_10)
    _, dispatcher = run(handoff_actions.ActionRequestHandoff(), tracker("asks_for_person_en"))
    [waiting] = desk.store.open_handoffs()
    assert (waiting.reason, waiting.team, waiting.rule, waiting.language) == (
        "visitor_asked", "sales", None, "en",
    )  # fmt: skip
    assert "our Sales team" in dispatcher.messages[0]["text"]
    assert waiting.lead_id is None  # asking for a person leaves no CRM record by itself


def test_outside_office_hours_the_bot_says_so_and_offers_a_callback_or_meeting(at):
    desk = at(SATURDAY_10)
    events, dispatcher = run(handoff_actions.ActionRequestHandoff(), tracker("asks_for_person_en"))
    assert desk.store.open_handoffs() == []
    assert events == [
        SlotSet("handoff_requested", True),
        SlotSet("handoff_person", None),
        SlotSet("handoff_team", "sales"),
    ]
    text, offer = dispatcher.messages
    assert "Mon–Fri 8:00–17:00" in text["text"] and "Mon 30 Nov 8:00" in text["text"]
    assert offer["response"] == "utter_offer_callback_en"


def test_a_store_failure_is_told_honestly_and_nothing_claims_success(monkeypatch, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the database folder should be")
    monkeypatch.setenv("LOTSE_DATABASE_URL", f"sqlite:///{blocked / 'lotse.db'}")
    events, dispatcher = run(handoff_actions.ActionRequestHandoff(), tracker("asks_for_person_en"))
    assert events == []
    [message] = dispatcher.messages
    assert message["text"] == load_handoff_texts().text("failed", "en")


def test_an_unclaimed_wait_ends_with_the_callback_offer(at):
    at(TUESDAY_10 + timedelta(hours=1))
    events, dispatcher = run(
        handoff_actions.ActionHandoffUnavailable(), tracker("asks_for_person_en")
    )
    assert "nobody from our Sales team is free" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[1]["response"] == "utter_offer_callback_en"
    assert SlotSet("handoff_team", "sales") in events


def test_after_a_hand_back_the_bot_names_the_person_and_resumes_a_paused_qualification(at):
    desk = at(TUESDAY_10)
    run(handoff_actions.ActionRequestHandoff(), tracker("asks_for_person_en"))
    [waiting] = desk.store.open_handoffs()
    desk.store.transition(waiting, "claim", "anna", TUESDAY_10, assignee="anna")
    paused = {"asking": "employees", "noted": {"need": "presses"}}
    events, dispatcher = run(
        handoff_actions.ActionResumeAfterHandoff(),
        tracker("asks_for_person_en", qualification=paused),
    )
    assert dispatcher.messages[0]["response"] == "utter_handed_back_en"
    assert dispatcher.messages[0]["person"] == "Anna, Sales"
    assert events == [
        SlotSet("handoff_requested", False),
        SlotSet("qualification_answer", None),
        FollowupAction("qualification_form"),
    ]
