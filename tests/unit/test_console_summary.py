"""The summary at the top of a conversation (console/summary.py): the reason, the
visitor's last question before the handoff, the topics the bot answered, the lead's
facts, and personal answers only under a consent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from console.summary import MAX_QUESTION_CHARS, Answered, summarise
from handoff.store import Handoff

REQUESTED = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
TOPICS = {
    "delivery_time": {"de": "Lieferzeit", "en": "Delivery time"},
    "price": {"de": "Preis", "en": "Price"},
}
PERSONAL = frozenset({"name", "email", "phone"})


def handoff(reason: str = "visitor_asked", requested_at: datetime = REQUESTED) -> Handoff:
    return Handoff(
        id=7, conversation_id="web-1", state="waiting", reason=reason, language="de",
        channel="rest", page=None, need="sales", lead_id=3, team="sales", rule="germany_0_3",
        responsible=[], assignee=None, explanation=[], requested_at=requested_at,
        claim_deadline=requested_at, claimed_at=None, closed_at=None, outcome=None,
        outcome_reason=None, version=1, updated_at=requested_at,
    )  # fmt: skip


def at(seconds: float) -> float:
    """A tracker timestamp `seconds` after the handoff's request (negative: before)."""
    return (REQUESTED + timedelta(seconds=seconds)).timestamp()


def user(text: str, intent: str, seconds: float) -> dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": at(seconds),
            "parse_data": {"intent": {"name": intent}}}  # fmt: skip


def action(name: str, seconds: float) -> dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": at(seconds)}


def bot(text: str, seconds: float, **metadata: Any) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": at(seconds), "metadata": metadata}


def requested(seconds: float) -> dict[str, Any]:
    return {"event": "slot", "name": "handoff_requested", "value": True, "timestamp": at(seconds)}


def card(consent: bool, **answers: Any) -> dict[str, Any]:
    return {
        "stage": "sql", "fit": 72, "interest": 40, "name": "Erika Muster",
        "email": "erika@example.com", "phone": "+49 30 1234567",
        "answers": {key: {"value": value, "status": "answered", "source": "bot", "at": None}
                    for key, value in answers.items()},
        "explanation": {
            "fit": ["employees 60: 80", "fit = average of 1 known attribute(s) = 72"],
            "interest": [f"2026-11-2{i} asked for a demo +10 -> {i * 10}" for i in range(5)]
            + ["interest = 40 (cap 100)"],
        },
        "consent": {"version": "v2", "given_at": "2026-11-24T08:58:00+00:00", "channel": "rest",
                    "purpose": "contact", "language": "de", "wording": "..."} if consent else None,
        "questions": ["need", "employees", "name", "email"],
    }  # fmt: skip


CONVERSATION = [
    action("action_session_start", -3600),
    user("Was kostet die P400?", "faq_price", -3500),  # an earlier session
    action("utter_faq_price", -3499),
    action("action_session_start", -120),
    user("Hallo", "greet", -110),
    user("Wie lange ist die Lieferzeit für die P800?", "faq_delivery_time", -100),
    action("utter_faq_delivery_time", -99),
    bot("Etwa 12 Wochen.", -99, utter_action="utter_faq_delivery_time"),
    user("Gibt es die Presse auch mit Servoantrieb?", "document_question", -60),
    action("action_answer_from_documents", -59),
    bot(
        "Ja, ab Baujahr 2024.",
        -59,
        utter_action="utter_document_answer",
        answer="Ja, ab Baujahr 2024.",
        source="NW Flow, Seite 3",
    ),
    user("und die kleine?", "follow_up", -40),
    action("action_follow_up", -39),
    bot("Etwa 8 Wochen.", -39, utter_action="utter_faq_delivery_time"),
    user("/request_human", "request_human", -10),
    user("Ich möchte mit jemandem sprechen", "request_human", -2),
    action("action_request_handoff", -1),
    requested(1),  # Rasa stamps the action's events once it returned
    user("Hallo? Ist da jemand?", "greet", 30),  # written to the person, after the request
]


def test_the_reason_and_the_last_question_before_the_handoff():
    summary = summarise(handoff("out_of_depth"), CONVERSATION, None, TOPICS, PERSONAL)
    assert (summary.reason, summary.need) == ("out_of_depth", "sales")
    # Not the wish for a person, not what was typed after the request: the question.
    assert summary.last_question == "und die kleine?"
    assert summary.last_question_at == datetime.fromtimestamp(at(-40), timezone.utc).isoformat(
        timespec="milliseconds"
    )


def test_the_wish_for_a_person_is_the_question_when_nothing_else_was_asked():
    events = [action("action_session_start", -20), user("Hallo", "greet", -15),
              user("Einen Menschen bitte", "request_human", -5), requested(1)]  # fmt: skip
    summary = summarise(handoff(), events, None, TOPICS, PERSONAL)
    assert summary.last_question == "Einen Menschen bitte"
    assert summarise(handoff(), [], None, TOPICS, PERSONAL).last_question is None


def test_answers_to_the_bots_own_questions_are_not_the_question_unless_they_ask():
    events = [
        user("Was kostet eine P400?", "faq_press_price", -90),
        action("utter_faq_press_price", -89),
        user("60 Leute", "nlu_fallback", -60),
        action("qualification_form", -59),
        user("Liefern Sie auch nach Österreich?", "faq_service_area", -40),
        action("action_extract_slots", -39),
        action("qualification_form", -39),  # the form answered it, as an interruption
        user("0171 2345678", "nlu_fallback", -20),
        action("action_extract_slots", -19),
        action("qualification_form", -19),
        requested(1),
    ]
    summary = summarise(handoff("sales_ready"), events, None, TOPICS, PERSONAL)
    assert summary.last_question == "Liefern Sie auch nach Österreich?"
    assert summarise(handoff(), events[2:4], None, TOPICS, PERSONAL).last_question is None


def test_a_long_question_is_cut_and_its_spaces_folded():
    events = [user("Frage\n\n" + "x" * 1000, "out_of_scope", -5), requested(1)]
    question = summarise(handoff(), events, None, TOPICS, PERSONAL).last_question
    assert question is not None and len(question) == MAX_QUESTION_CHARS
    assert question.startswith("Frage x") and question.endswith("…")


def test_the_topics_the_bot_answered_in_this_session_once_each_with_their_titles():
    summary = summarise(handoff(), CONVERSATION, None, TOPICS, PERSONAL)
    assert summary.answered == (
        Answered("faq", "delivery_time", {"de": "Lieferzeit", "en": "Delivery time"}),
        Answered("document", None, {"de": "NW Flow, Seite 3", "en": "NW Flow, Seite 3"}),
    )  # the price was an earlier session's


def test_answers_given_after_the_handoff_are_not_what_the_bot_already_answered():
    later = [*CONVERSATION, action("utter_faq_price", 300), requested(600)]
    summary = summarise(handoff(), later, None, TOPICS, PERSONAL)  # requested at 0, not 600
    assert [a.key for a in summary.answered] == ["delivery_time", None]
    second = summarise(handoff(requested_at=REQUESTED + timedelta(seconds=600)), later, None,
                       TOPICS, PERSONAL)  # fmt: skip
    assert [a.key for a in second.answered] == ["delivery_time", None, "price"]


def test_when_the_clocks_disagree_the_latest_request_counts():
    ahead = handoff(requested_at=REQUESTED - timedelta(days=30))  # the console's test clock
    summary = summarise(ahead, CONVERSATION, None, TOPICS, PERSONAL)
    assert summary.last_question == "und die kleine?"


def test_unknown_topics_and_sourceless_document_answers_are_left_out():
    events = [action("utter_faq_gone", -5), bot("x", -4, utter_action="utter_document_answer")]
    assert summarise(handoff(), events, None, TOPICS, PERSONAL).answered == ()


def test_the_lead_facts_with_consent_show_every_answer_in_the_questionnaires_order():
    lead = summarise(handoff(), CONVERSATION,
                     card(True, email="erika@example.com", employees={"count": 60},
                          name="Erika Muster", budget={"max": 50000}),
                     TOPICS, PERSONAL).lead  # fmt: skip
    assert lead is not None
    assert (lead.stage, lead.fit, lead.interest) == ("sql", 72, 40)
    assert [a.key for a in lead.answers] == ["employees", "name", "email", "budget"]
    assert lead.fit_explanation[-1] == "fit = average of 1 known attribute(s) = 72"
    assert len(lead.interest_explanation) == 3  # the latest changes and the total
    assert lead.interest_explanation[-1] == "interest = 40 (cap 100)"
    assert (lead.consent_given, lead.consent_given_at, lead.consent_version) == (
        True, "2026-11-24T08:58:00+00:00", "v2")  # fmt: skip


def test_without_consent_personal_answers_and_contact_details_are_not_shown():
    lead = summarise(handoff(), CONVERSATION,
                     card(False, name="Erika Muster", employees={"count": 60},
                          phone="+49 30 1234567"),
                     TOPICS, PERSONAL).lead  # fmt: skip
    assert lead is not None and not lead.consent_given and lead.consent_given_at is None
    assert [a.key for a in lead.answers] == ["employees"]
    shown = repr(lead)
    for personal in ("Erika", "erika@example.com", "1234567"):
        assert personal not in shown


def test_no_card_no_lead_facts():
    assert summarise(handoff(), CONVERSATION, None, TOPICS, PERSONAL).lead is None
