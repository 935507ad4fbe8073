"""The callback-or-meeting state machine (handoff/callback_flow.py), pure."""

from __future__ import annotations

from dialogue.qualification.questions import load_questionnaire
from handoff.callback_flow import (
    CALLBACK,
    MEETING,
    CallbackReaders,
    CallbackState,
    CallbackTexts,
    CallbackTurn,
    step,
)
from handoff.texts import load_handoff_texts

TEXTS = CallbackTexts(load_handoff_texts().texts, load_questionnaire().consent.text)
CONTROLS = load_questionnaire().controls
READERS = CallbackReaders(
    phone=lambda text, _: "+495211234567" if "0521" in text else None,
    email=lambda text, _: text if "@" in text else None,
)
OFFERED = (
    ("Mo 30.11. 8:00", "2026-11-30T08:00:00+01:00", "2026-11-30T08:30:00+01:00"),
    ("Mo 30.11. 8:30", "2026-11-30T08:30:00+01:00", "2026-11-30T09:00:00+01:00"),
)


def say(state: CallbackState, text: str, **turn: object):
    values = {"language": "de", **turn}
    return step(state, CallbackTurn(text=text, **values), TEXTS, CONTROLS, READERS)  # type: ignore[arg-type]


def start(kind: str = CALLBACK, **turn: object):
    return say(CallbackState(), "/request_" + kind, starting=True, kind=kind, **turn)


def test_a_callback_asks_consent_then_phone_then_time_and_is_done():
    out = start()
    assert out.state.asking == "consent" and "Sind Sie einverstanden?" in out.prompt
    assert [b["payload"] for b in out.buttons] == ["/affirm", "/deny"]
    out = say(out.state, "Ja", intent="affirm")
    assert out.consent_given and out.state.asking == "phone"
    out = say(out.state, "meine Nummer ist 0521 1234567")
    assert out.state.phone == "+495211234567" and out.state.asking == "window"
    out = say(out.state, "morgen Vormittag")
    assert out.done and out.finished and out.state.window == "morgen Vormittag"


def test_what_is_known_is_not_asked_again():
    out = start(consent_on_record=True, known_phone="+4930123")
    assert out.state.asking == "window" and out.state.phone == "+4930123"


def test_no_consent_stores_nothing_and_says_how_to_call():
    out = say(start().state, "Nein", intent="deny")
    assert out.finished and not out.done and "+49 521 555 0100" in out.prompt


def test_an_unreadable_phone_is_asked_again_then_given_up():
    state = say(start().state, "ja", intent="affirm").state
    out = say(state, "weiß ich nicht")
    assert out.state.asking == "phone" and out.say == [TEXTS.get("not_understood", "de")]
    out = say(out.state, "keine Ahnung")
    out = say(out.state, "immer noch nicht")
    assert out.finished and not out.done and "+49 521 555 0100" in out.prompt


def test_a_meeting_offers_slots_as_buttons_then_asks_consent_and_email():
    out = start(MEETING, offered=OFFERED)
    assert out.state.asking == "slot"
    assert [b["title"] for b in out.buttons] == ["Mo 30.11. 8:00", "Mo 30.11. 8:30"]
    out = say(out.state, "Mo 30.11. 8:30")
    assert out.state.slot == "2026-11-30T08:30:00+01:00" and out.state.asking == "consent"
    out = say(out.state, "ja", intent="affirm")
    assert out.state.asking == "email"
    out = say(out.state, "anna@mueller-metall.example")
    assert out.done and out.state.email == "anna@mueller-metall.example"


def test_a_slot_can_be_picked_by_its_number_and_no_slots_is_said_honestly():
    out = say(start(MEETING, offered=OFFERED).state, "2")
    assert out.state.slot == "2026-11-30T08:30:00+01:00"
    none = start(MEETING, offered=())
    assert none.finished and not none.done and "Rückruf" in none.prompt


def test_stop_ends_it_at_any_point():
    out = say(start().state, "stopp")
    assert out.finished and not out.done and out.prompt == TEXTS.get("cancelled", "de")


def test_a_damaged_slot_starts_clean():
    assert CallbackState.from_slot({"kind": "callback", "bogus": 1}).kind == "callback"
    assert CallbackState.from_slot("nonsense") == CallbackState()
