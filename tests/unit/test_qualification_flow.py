"""The qualification state machine (dialogue/qualification/flow.py) with a scripted reader.

The reader below understands a tiny fixed vocabulary, so these tests pin the dialogue
rules alone: order, skipping what is known, consent before personal data, "why?",
declining, corrections, product questions in between, two misses, stop, summary.
"""

from __future__ import annotations

from datetime import date

import pytest

from dialogue.qualification.flow import CONSENT, GO_ON, SUMMARY, Reading, State, Turn, step
from dialogue.qualification.questions import Question, load_questionnaire
from dialogue.qualification.replies import Replies

Q = load_questionnaire()
TODAY = date(2026, 11, 25)

ANSWERS = {
    "need": {"pressen": "presses", "presses": "presses"},
    "company": {"müller metallbau gmbh": "Müller Metallbau GmbH"},
    "employees": {"60": 60, "80": 80, "wir sind 80": 80},
    "industry": {"metallbau": "metalworking"},
    "role": {"geschäftsführer": "owner_md"},
    "location": {"33602": "DE 33602"},
    "timeline": {"in zwei monaten": 2},
    "budget": {"150k": 150000},
    "name": {"anna muster": "Anna Muster"},
    "email": {"anna@mueller-metall.example": "anna@mueller-metall.example"},
    "phone": {"0521 1234567": "+495211234567"},
}


class ScriptedReader:
    def read(
        self, question: Question, text: str, language: str, today: date, *, catch_all: bool = True,
        country: str | None = None,
    ) -> Reading | None:  # fmt: skip
        value = ANSWERS[question.key].get(text.lower())
        return None if value is None else Reading(question.key, {"v": value}, str(value))

    def volunteered(
        self, text: str, language: str, today: date, country: str | None = None
    ) -> list[Reading]:
        if text.lower() in ("wir sind 80", "wir sind doch 80 leute"):
            return [Reading("employees", {"v": 80}, "80")]
        if text.lower() == "60 leute metallbau in bielefeld":
            return [Reading("employees", {"v": 60}, "60"),
                    Reading("industry", {"v": "metalworking"}, "metalworking"),
                    Reading("location", {"v": "DE 33602"}, "DE 33602")]  # fmt: skip
        return []


READER = ScriptedReader()


def talk(state: State, text: str, **turn: object):
    values = {"language": "de", "today": TODAY, **turn}
    return step(Q, state, Turn(text=text, **values), READER)  # type: ignore[arg-type]


def start(text: str = "Ja", **turn: object):
    return talk(State(), text, starting=True, **turn)


def test_starts_with_an_intro_and_the_first_question() -> None:
    outcome = start()
    assert outcome.state.asking == "need"
    assert outcome.prompt == Q.question("need").ask["de"]
    assert "ein paar kurze Fragen" in outcome.say[0]


def test_the_straight_path_asks_consent_before_the_first_personal_question() -> None:
    outcome = start()
    asked = [outcome.state.asking]
    for text in ["Pressen", "Müller Metallbau GmbH", "60", "Metallbau", "Geschäftsführer",
                 "33602", "in zwei Monaten"]:  # fmt: skip
        outcome = talk(outcome.state, text)
        asked.append(outcome.state.asking)
    # Budget is optional: scoring and routing are decided, so it is skipped.
    assert asked == ["need", "company", "employees", "industry", "role", "location",
                     "timeline", CONSENT]  # fmt: skip
    assert outcome.yes_no and "einverstanden" in outcome.prompt
    outcome = talk(outcome.state, "ja", intent="affirm")
    assert outcome.consent_given and outcome.state.asking == "name"
    outcome = talk(outcome.state, "Anna Muster")
    outcome = talk(outcome.state, "anna@mueller-metall.example")
    assert outcome.state.asking == SUMMARY  # phone is optional too
    assert "- E-Mail: anna@mueller-metall.example" in outcome.prompt
    assert "- Mitarbeiter: 60" in outcome.prompt
    outcome = talk(outcome.state, "Passt so")
    assert outcome.submitted and outcome.finished


def test_what_is_known_is_never_asked() -> None:
    outcome = start(known=frozenset({"need", "company", "employees"}))
    assert outcome.state.asking == "industry"


def test_volunteered_answers_fill_several_questions_at_once() -> None:
    outcome = start("60 Leute Metallbau in Bielefeld")
    assert {r.key for r in outcome.readings} == {"employees", "industry", "location"}
    outcome = talk(outcome.state, "Pressen")
    outcome = talk(outcome.state, "Müller Metallbau GmbH")
    assert outcome.state.asking == "role"


def test_why_gets_the_honest_reason_and_the_same_question() -> None:
    outcome = talk(start().state, "Warum wollen Sie das wissen?")
    assert outcome.say == [Q.question("need").why["de"]]
    assert outcome.state.asking == "need"


def test_a_declined_question_is_recorded_and_not_asked_again() -> None:
    state = talk(start().state, "Pressen").state
    outcome = talk(state, "Das möchte ich nicht sagen")
    assert outcome.declined == ["company"] and outcome.state.asking == "employees"
    assert "company" in outcome.state.declined
    assert talk(outcome.state, "60").state.asking == "industry"


def test_a_required_question_cannot_be_skipped_but_the_visitor_may_stop() -> None:
    outcome = talk(start().state, "überspringen")
    assert outcome.state.asking == GO_ON and outcome.declined == []
    assert talk(outcome.state, "nein", intent="deny").finished


def test_a_correction_of_an_earlier_answer_is_taken_and_the_question_repeated() -> None:
    state = start().state
    for text in ["Pressen", "Müller Metallbau GmbH", "60"]:
        state = talk(state, text).state
    outcome = talk(state, "wir sind doch 80 Leute")  # names the question: a correction
    assert [r.value for r in outcome.readings] == [{"v": 80}]
    assert outcome.say == ["Notiert: Mitarbeiter 80."]
    assert outcome.state.asking == "industry"


def test_a_later_message_that_only_fits_an_answer_given_does_not_change_it() -> None:
    state = start().state
    for text in ["Pressen", "Müller Metallbau GmbH", "60"]:
        state = talk(state, text).state
    outcome = talk(state, "wir sind 80")  # no "Mitarbeiter", no "eigentlich": a guess
    assert outcome.readings == [] and outcome.state.noted["employees"] == "60"


def test_a_product_question_in_between_is_answered_then_back_to_the_question() -> None:
    outcome = talk(start().state, "Wie lange ist die Garantie?", intent="faq_warranty",
                   confidence=0.9)  # fmt: skip
    assert outcome.responses == ["utter_faq_warranty"]
    assert outcome.state.asking == "need" and outcome.prompt == Q.question("need").ask["de"]


def test_two_unusable_answers_explain_and_ask_to_go_on_never_looping() -> None:
    state = talk(start().state, "Pressen").state
    first = talk(state, "???")
    assert first.state.asking == "company" and first.say == [
        "Das habe ich leider nicht verstanden."
    ]
    second = talk(first.state, "!!!")
    assert second.state.asking == GO_ON and second.yes_no
    assert Q.question("company").why["de"] in second.say[0]
    again = talk(second.state, "ja", intent="affirm")
    assert again.state.asking == "company"
    # Two more misses after the explanation, and the bot lets the question go.
    third = talk(again.state, "???")
    assert third.state.asking == "company"
    moved = talk(third.state, "!!!")
    assert moved.state.asking == "employees" and "company" in moved.state.skipped
    assert Replies("de").text("let_go") in moved.say


def test_stop_ends_and_keeps_what_was_said() -> None:
    state = talk(start().state, "Pressen").state
    outcome = talk(state, "Lass uns aufhören")
    assert outcome.finished and not outcome.submitted
    assert "bleibt notiert" in outcome.prompt


def test_consent_refused_skips_every_personal_question() -> None:
    known = frozenset({"need", "company", "employees", "industry", "role", "location", "timeline"})
    state = start(known=known).state
    assert state.asking == CONSENT
    outcome = talk(state, "nein", intent="deny", known=known)
    assert outcome.state.consent is False and not outcome.consent_given
    assert outcome.state.asking is None and outcome.finished  # nothing noted this time


def test_personal_data_is_not_taken_without_consent() -> None:
    class Volunteering(ScriptedReader):
        def volunteered(self, text, language, today, country=None):  # noqa: ANN001, ANN202
            return [Reading("email", {"v": text}, text)]

    outcome = step(Q, State(), Turn("a@b.example", "de", TODAY, starting=True), Volunteering())
    assert outcome.readings == []


def test_withdrawal_is_understood_in_the_middle() -> None:
    state = talk(start().state, "Pressen").state
    outcome = talk(state, "Ich widerrufe meine Einwilligung")
    assert outcome.withdraw and outcome.finished and outcome.state.consent is False


def test_a_summary_can_be_corrected() -> None:
    state = State(asking=SUMMARY, consent=True, noted={"employees": "60"})
    outcome = talk(state, "wir sind 80")
    assert outcome.state.asking == SUMMARY and "- Mitarbeiter: 80" in outcome.prompt
    outcome = talk(outcome.state, "nein", intent="deny")
    assert outcome.say == ["Was soll ich korrigieren?"]


@pytest.mark.parametrize("text", ["it’s fine by me", "that is all good, thanks", "passt fein"])
def test_a_summary_is_accepted_in_the_visitors_small_talk(text: str) -> None:
    state = State(asking=SUMMARY, consent=True, noted={"employees": "60"})
    outcome = talk(state, text, language="en")
    assert outcome.submitted and outcome.finished


def test_a_summary_is_not_accepted_by_a_refusal_in_small_talk() -> None:
    state = State(asking=SUMMARY, consent=True, noted={"employees": "60"})
    outcome = talk(state, "nein danke")
    assert not outcome.submitted and outcome.state.asking == SUMMARY


@pytest.mark.parametrize("raw", [None, "x", {"asking": 3, "bogus": 1}, {"failures": "x"}])
def test_a_damaged_state_slot_starts_clean(raw: object) -> None:
    state = State.from_slot(raw)
    assert isinstance(state, State)


def test_english() -> None:
    outcome = start(language="en")
    assert outcome.prompt == Q.question("need").ask["en"]


def test_stop_in_words_is_not_taken_for_a_withdrawal_even_if_nlu_thinks_so() -> None:
    state = talk(start().state, "Pressen").state
    outcome = talk(state, "let's stop", intent="withdraw_consent", confidence=0.9)
    assert outcome.finished and not outcome.withdraw
    unsure = talk(state, "hmm", intent="withdraw_consent", confidence=0.4)
    assert not unsure.withdraw


def test_the_need_keeps_what_for_without_contact_details() -> None:
    from dialogue.qualification.interpret import read_need

    reading = read_need(
        "Pressen für die neue Linie, Rückruf an 0521 1234567 oder a@b.de", "de", TODAY
    )
    assert reading is not None and reading.value["product_line"] == "presses"
    assert reading.value["purpose"] == "Pressen für die neue Linie, Rückruf an … oder …"
    long = read_need("Pressen " + "x" * 500, "de", TODAY)
    assert long is not None and len(long.value["purpose"]) == 200


def test_a_wish_for_a_person_pauses_the_questions_and_a_hand_back_resumes_them() -> None:
    state = start("Pressen").state  # need answered: company is asked now
    paused = talk(state, "Kann ich mit einem Menschen sprechen?", intent="request_human",
                  confidence=0.95)  # fmt: skip
    assert paused.handoff and not paused.finished
    assert paused.state.asking == "company" and paused.say == [] and paused.readings == []
    # The agent learnt the company and the size meanwhile (now known to the CRM).
    resumed = talk(paused.state, "/handed_back", intent="handed_back",
                   known=frozenset({"need", "company", "employees"}))  # fmt: skip
    assert resumed.say == [Replies("de").text("resumed")]
    assert resumed.state.asking == "industry" and not resumed.finished


def test_the_words_alone_also_ask_for_a_person_in_the_middle() -> None:
    state = start("Pressen").state
    assert talk(state, "ich möchte mit einem Menschen sprechen").handoff


@pytest.mark.parametrize(
    ("text", "company"),
    [("Förderbänder", None), ("die Software", None), ("Wartung", None),
     ("Pressen Lindner", "Pressen Lindner"), ("Hydraulik AG", "Hydraulik AG")],
)  # fmt: skip
def test_a_product_line_alone_is_no_company_name(text: str, company: str | None) -> None:
    from dialogue.qualification.interpret import AnswerInterpreter

    reading = AnswerInterpreter().read(Q.question("company"), text, "de", TODAY)
    assert (reading.shown if reading else None) == company


@pytest.mark.parametrize(
    ("language", "shown"),
    [("de", "Zeitplan 3 Monate, Mitarbeiter 80"), ("en", "Timeline 3 months, Employees 80")],
)
def test_a_timeline_is_read_back_in_the_visitors_language(language: str, shown: str) -> None:
    from dialogue.answers.timeline import Timeline
    from dialogue.qualification.interpret import timeline_reading

    reading = timeline_reading(Timeline(months=3))
    replies = Replies(language)
    assert replies.listing([(reading.key, reading.shown), ("employees", "80")]) == shown
    assert replies.value("1 months") in {"1 Monat", "1 month"}
