"""The qualification form's validation action and the withdrawal action, against tracker
fixtures (tests/fixtures/trackers/) and the local CRM store of the test's own folder."""

from __future__ import annotations

import os

import pytest
from rasa_sdk.events import SlotSet

from bot.actions import qualification
from bot.actions.qualification import ActionWithdrawConsent, ValidateQualificationForm
from crm_adapter.port import CrmError, CrmUnavailable, Visit
from dialogue.qualification.questions import load_questionnaire
from tests.unit.test_actions import run, tracker
from wiring.services import services_for

Q = load_questionnaire()


def stored(conversation: str):  # noqa: ANN201
    return services_for(os.environ["LOTSE_DATABASE_URL"]).crm.lead_for(Visit(conversation, "rest"))


def test_accepting_the_offer_starts_with_the_intro_and_the_first_open_question() -> None:
    """The offer followed the price of the P400: the need is the presses, so the first
    question asked is the company."""
    events, dispatcher = run(ValidateQualificationForm(), tracker("enquiry_offer_accepted_de"))
    state = {"asking": "company", "go_on_question": None, "failures": 0, "declined": [],
             "consent": None, "noted": {"need": "presses"}, "tries": {}, "turns": 0,
             "skipped": [], "explained": [], "partial": []}  # fmt: skip
    assert events == [
        SlotSet("qualification_step", "company:asked"),  # for the insights funnel
        SlotSet("qualification", state),
        SlotSet("qualification_prompt", Q.question("company").ask["de"]),
        SlotSet("qualification_yes_no", False),
        SlotSet("qualification_answer", None),
    ]
    assert "ein paar kurze Fragen" in dispatcher.messages[0]["text"]
    lead = stored("web-test-q1")
    assert lead.answers["need"].value == {"product_line": "presses",
                                          "purpose": "Was kostet eine P400?"}  # fmt: skip
    assert [e.kind for e in lead.interest_events] == ["asked_price"]
    assert lead.visitor_ids == ["visitor-q1"]


def test_an_answer_is_stored_scored_and_the_next_question_asked() -> None:
    events, dispatcher = run(
        ValidateQualificationForm(), tracker("qualification_answers_employees_de")
    )
    assert events[:2] == [
        SlotSet("qualification_step", "employees:answered"),
        SlotSet("qualification_step", "industry:asked"),
    ]
    assert events[3] == SlotSet("qualification_prompt", Q.question("industry").ask["de"])
    assert events[2].get("value")["noted"]["employees"] == "60"
    assert dispatcher.messages == []
    lead = stored("web-test-q2")
    assert lead.answers["employees"].value["count"] == 60
    assert [e.cause for e in lead.scoring_events] == ["company size 60 (50-70): 100 -> fit 100"]


def test_a_failing_store_is_told_honestly_and_ends_the_qualification(monkeypatch) -> None:  # noqa: ANN001
    def broken() -> None:
        raise CrmError("the store is down")

    monkeypatch.setattr(qualification, "crm", broken)
    events, dispatcher = run(
        ValidateQualificationForm(), tracker("qualification_answers_employees_de")
    )
    prompt = next(e["value"] for e in events if e["name"] == "qualification_prompt")
    assert "nicht speichern" in prompt
    assert SlotSet("qualification_answer", "done") in events
    assert SlotSet("requested_slot", None) in events
    assert dispatcher.messages == []


def test_an_unreachable_store_fails_the_turn_to_be_sent_again(monkeypatch) -> None:  # noqa: ANN001
    """A database restart is no reason to end the qualification: the action raises, the
    turn fails (bot/loud_actions.py: 503, nothing saved) and the message sent again
    runs it anew."""

    def restarting() -> None:
        raise CrmUnavailable("the database cannot be reached")

    monkeypatch.setattr(qualification, "crm", restarting)
    with pytest.raises(CrmUnavailable):
        run(ValidateQualificationForm(), tracker("qualification_answers_employees_de"))
    with pytest.raises(CrmUnavailable):
        run(ActionWithdrawConsent(), tracker("enquiry_offer_accepted_de"))


def test_withdrawal_erases_and_confirms() -> None:
    run(ValidateQualificationForm(), tracker("enquiry_offer_accepted_de"))
    events, dispatcher = run(ActionWithdrawConsent(), tracker("enquiry_offer_accepted_de"))
    assert "widerrufen" in dispatcher.messages[0]["text"]
    state = {"asking": None, "go_on_question": None, "failures": 0, "declined": [],
             "consent": False, "noted": {}, "tries": {}, "turns": 0,
             "skipped": [], "explained": [], "partial": []}  # fmt: skip
    assert events == [SlotSet("qualification", state)]
    assert stored("web-test-q1").consent is None
