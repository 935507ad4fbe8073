"""What a message is, besides an answer (dialogue/understanding/): words, phrases, requests,
small talk, questions, follow-ups, dialect, and the decision on the intent.

Plain Python; the phrasings here are this file's own (the evaluation corpus in
tests/eval_conversations is kept apart from every word list and test)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogue.dialect import standard_german, standard_word
from dialogue.qualification.questions import load_questionnaire
from dialogue.understanding.follow_up import FollowUp, follow_up_answer, looks_like_follow_up
from dialogue.understanding.patterns import compile_phrase, compile_phrases, first_match
from dialogue.understanding.questions import asks_how, asks_whether, is_question
from dialogue.understanding.reading import (
    FOLLOW_UP_INTENT,
    INFORM_INTENT,
    REQUEST_INTENT,
    decide,
)
from dialogue.understanding.requests import parse_requests, request_kind
from dialogue.understanding.small_talk import greeting_end, is_non_answer, small_talk_kind
from dialogue.understanding.words import similar, words_of


def kind(text: str) -> str | None:
    return request_kind(words_of(text))


# -- words and phrases --------------------------------------------------------------


def test_words_are_folded_and_emphasis_is_collapsed() -> None:
    assert words_of("Rückruf, RUECKRUF und Ruckruf!!") == ["ruckruf"] * 2 + ["und", "ruckruf"]
    assert words_of("jaaaa suuuper") == ["ja", "super"]
    assert words_of("Live-Demo") == ["live", "demo"]


def test_dialect_words_are_read_as_standard_words() -> None:
    assert words_of("mir wänd chaufe") == ["mir", "wollen", "kaufen"]  # "mir": German only
    assert standard_word("Lüüt", german=True) == "Leute"
    assert standard_word("mir", german=False) is None
    assert standard_german("öppe 60 Lüüt, i drü Mönet") == "ungefähr 60 Leute, i drei Monate"
    assert standard_german("Metallbau Huber GmbH") == "Metallbau Huber GmbH"


@pytest.mark.parametrize(
    ("word", "wanted", "same"),
    [
        ("angebto", "angebot", True),  # two letters swapped
        ("angbot", "angebot", True),  # one letter missing
        ("angebat", "angebot", True),  # one letter wrong
        ("angeboten", "angebot", False),  # a letter more: an inflection, not a typo
        ("demo", "dmeo", False),  # too short for a swap
        ("nein", "mein", False),  # too short for a wrong letter
    ],
)
def test_one_typo_is_tolerated_in_longer_words_only(word: str, wanted: str, same: bool) -> None:
    assert similar(word, wanted) is same


def test_phrases_allow_gaps_beginnings_and_compound_heads() -> None:
    call = compile_phrase("ruf* ... mich ... an")
    assert call.find(words_of("Rufen Sie mich bitte morgen an")) is not None
    assert call.find(words_of("Rufen Sie an")) is None
    head = compile_phrase("*presse")
    assert head.find(["servopresse"]) == (0, 1) and head.find(["presse"]) is None
    found = first_match(compile_phrases(["call me", "call me back"]), words_of("pls call me back"))
    assert found is not None and found[0].source == "call me back"


@pytest.mark.parametrize("bad", ["", "...", "x ... ", "ab*", "*abc", "a*b"])
def test_malformed_phrases_are_refused_with_their_text(bad: str) -> None:
    with pytest.raises(ValueError):
        compile_phrase(bad)


# -- requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Könnten Sie uns bitte ein Angebot über zwei Pressen schicken", "quote"),
        ("hätte gern nen Kostenvoranschlag", "quote"),
        ("Guten Morgen, wir bräuchten eine Offerte", "quote"),
        ("send us a quotation for the P200", "quote"),
        ("Wir möchten die Anlage gern einmal vorgeführt sehen, eine Vorführung wäre super", "demo"),
        ("can we book a demo next week", "demo"),
        ("Wann hätten Sie einen Beratungstermin frei", "appointment"),
        ("Bitte rufen Sie mich morgen Vormittag zurück", "callback"),
        ("could someone give me a call", "callback"),
        ("Wir wollen zwei P800 bestellen", "purchase"),
        ("we'd like to buy one", "purchase"),
        ("Ich würde die Software gern kostenlos testen", "trial"),
        ("sign me up for the free trial", "trial"),
        ("Dann buchen wir den Bedienerkurs für vier Leute", "purchase"),
        ("we would like to book the operator course", "purchase"),
        ("can we book a call with sales", "appointment"),
    ],
)
def test_requests_are_recognised_in_their_many_forms(text: str, expected: str) -> None:
    assert kind(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Was umfasst Ihr Angebot an Pressen?",  # "Ihr Angebot": the range
        "Ich brauche kein Angebot, nur eine Auskunft",
        "Welche Angebote haben Sie für Schulungen?",
        "Wann ist der Liefertermin für die P400?",  # no appointment
        "I am the purchase manager",
        "Was kostet eine P400?",  # a price question, no request
    ],
)
def test_words_that_only_look_like_requests_are_none(text: str) -> None:
    assert kind(text) is None


def test_the_request_table_is_checked() -> None:
    with pytest.raises(ValueError, match="'lunch' is not one of"):
        parse_requests({"kinds": {"lunch": ["essen"]}})
    with pytest.raises(ValueError, match="quote"):
        parse_requests({"kinds": {"quote": []}})


# -- small talk, questions, follow-ups ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("danke vielmals!", "thanks"),
        ("ok, danke dir", "thanks"),
        ("alles klaaar 👍", "acknowledge"),
        ("super, dann nehmen wir die P400", None),  # says more than small talk
        ("Moin zusammen", "greeting"),
        ("Griaß di", "greeting"),
        ("ciao und danke", "goodbye"),
        ("have a great day", "goodbye"),
        ("ok, und was kostet die P800?", None),
        ("und die große?", None),  # not "Grüße": small talk tolerates typos only in long words
        ("it’s fine by me", "acknowledge"),  # copulas and curly apostrophes
        ("that is all good", "goodbye"),  # "that is all" closes; the summary takes it
        ("is ok", "acknowledge"),
        ("passt fein", "acknowledge"),
        ("fine, everyone", "acknowledge"),  # "everyone" greets only after a greeting
        ("Servus mitanand", "greeting"),
    ],
)
def test_small_talk_is_only_small_talk(text: str, expected: str | None) -> None:
    assert small_talk_kind(words_of(text)) == expected


@pytest.mark.parametrize(
    ("text", "non_answer"),
    [("jo eh", True), ("Sekunde bitte", True), ("yes please", True), ("Huber", False),
     ("Brandt Metall", False)],
)  # fmt: skip
def test_fillers_are_never_answers(text: str, non_answer: bool) -> None:
    assert is_non_answer(words_of(text)) is non_answer


def test_greetings_before_a_message_are_counted() -> None:
    assert greeting_end(words_of("Hallo zusammen, wir brauchen Hilfe")) == 2
    assert greeting_end(words_of("wir brauchen Hilfe")) == 0


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Was kosten eigentlich Schulungen", True),
        ("Hallo, wie lange hält die Garantie", True),
        ("wir sind 80", False),
        ("Lieferzeit?", True),
    ],
)
def test_questions_are_told_from_statements(text: str, question: bool) -> None:
    assert is_question(text, words_of(text)) is question


def test_questions_about_a_thing_are_told_from_asking_for_it() -> None:
    whether = "Gibt es für NW-Connect eine Testversion?"
    assert asks_whether(whether, words_of(whether))
    request = "Können Sie mir eine Testversion freischalten?"
    assert not asks_whether(request, words_of(request))
    how = "Wo kann ich beantragen, dass meine Daten gelöscht werden?"
    assert asks_how(how, words_of(how))
    plain = "Löschen Sie bitte meine Daten"
    assert not asks_how(plain, words_of(plain))


@pytest.mark.parametrize(
    ("text", "follow"),
    [("und die kleinste?", True), ("and that one?", True), ("what about the P200", True),
     ("Was kostet die P200 bei Ihnen?", False), ("Wir brauchen eine Presse für Tiefziehteile "
     "und eine Förderstrecke dazu, bitte mit Schulung", False)],
)  # fmt: skip
def test_follow_ups_are_short_and_refer_back(text: str, follow: bool) -> None:
    assert looks_like_follow_up(words_of(text)) is follow


PRODUCTS = {
    "P200": compile_phrases(["p200", "kleinste"]),
    "P800": compile_phrases(["p800", "große"]),
}


def test_a_follow_up_keeps_the_topic_and_takes_the_named_product() -> None:
    previous = FollowUp("press_price", "P400")
    answer = follow_up_answer(words_of("und die große?"), PRODUCTS, None, previous)
    assert answer == FollowUp("press_price", "P800")


def test_a_follow_up_on_another_line_takes_that_lines_topic() -> None:
    lines = {"press_price": "presses", "software_price": "software", "software": "software"}
    facets = {"press_price": {"software": "software_price"}}

    def on_line(topic: str, line: str | None) -> str:
        return facets.get(topic, {}).get(line or "", topic)

    answer = follow_up_answer(
        words_of("und was kostet das?"), PRODUCTS, "press_price", FollowUp("software", None),
        line_of=lambda topic, product: lines.get(topic or ""), on_line=on_line,
    )  # fmt: skip
    assert answer == FollowUp("software_price", None)
    assert follow_up_answer(words_of("und die?"), PRODUCTS, None, None) is None


# -- the decision -------------------------------------------------------------------


def test_a_request_wins_over_greeting_thanks_and_misunderstanding() -> None:
    for intent in ("greet", "thanks", "nlu_fallback", "out_of_scope", "affirm"):
        decision = decide("Servus, mir hätten gern a Angebot", intent)
        assert (decision.intent, decision.request) == (REQUEST_INTENT, "quote")


def test_a_request_with_a_product_question_keeps_the_question() -> None:
    decision = decide("Was kostet die P200, ich hätte gern ein Angebot", "faq_press_price")
    assert (decision.intent, decision.request) == ("faq_press_price", "quote")
    assert not decision.changed
    spare = decide("Ich möchte Dichtungen bestellen", "faq_spare_parts",
                   starts_enquiry=lambda intent: intent != "faq_spare_parts")  # fmt: skip
    assert (spare.intent, spare.request) == ("faq_spare_parts", None)


def test_a_question_whether_a_trial_exists_is_no_request() -> None:
    decision = decide("gibt es bei NW-Connect eine Testphase?", "faq_software_price")
    assert (decision.intent, decision.request) == ("faq_software_price", None)


def test_a_wish_for_a_person_in_words_stays_one() -> None:
    decision = decide("Ich will mit einem Menschen über ein Angebot sprechen", "request_human",
                      says_human=lambda text: True)  # fmt: skip
    assert decision.intent == "request_human"


def test_small_talk_is_never_a_misunderstanding() -> None:
    assert decide("ok danke dir", "nlu_fallback").intent == "thanks"
    assert decide("alles klar", "out_of_scope").intent == "affirm"
    assert decide("alles klar", "deny").intent == "deny"  # the NLU's own small talk stands


def test_an_introduction_with_facts_is_inform() -> None:
    text = "Wir sind eine Schlosserei aus Hamm mit 40 Leuten"
    decision = decide(text, "faq_company", facts=lambda said: True)
    assert decision.intent == INFORM_INTENT
    assert decide(text, "faq_company", facts=lambda said: False).intent == "faq_company"
    question = "Wir sind 40 Leute, was kostet eine P200?"
    assert decide(question, "faq_press_price", facts=lambda said: True).intent == "faq_press_price"


def test_an_elliptical_follow_up_is_one() -> None:
    assert decide("und die kleinste?", "nlu_fallback").intent == FOLLOW_UP_INTENT
    assert decide("und was kostet das?", "faq_press_price").intent == FOLLOW_UP_INTENT


def test_a_question_is_never_a_yes_or_a_no() -> None:
    ranking = [("affirm", 0.9), ("faq_products_overview", 0.3)]
    assert decide("was genau bietet ihr so an", "affirm", ranking).intent == "faq_products_overview"
    unsure = [("affirm", 0.9), ("faq_products_overview", 0.03)]
    assert decide("ja wie jetzt genau?", "affirm", unsure).intent == "nlu_fallback"
    assert decide("ja genau", "affirm", unsure).intent == "affirm"


def test_a_greeting_the_word_lists_miss_does_not_pick_an_unlikely_topic() -> None:
    ranking = [("greet", 0.94), ("faq_software_price", 0.02)]
    decision = decide("Ein recht herzliches Grüß Gott beisammen", "greet", ranking, confidence=0.94)
    assert decision.intent == "greet"


def test_a_sure_question_is_no_follow_up_when_its_answer_is_the_same_for_every_product() -> None:
    ranking = [("faq_data_protection", 0.97)]
    decision = decide(
        "und wie lange bleiben meine Angaben gespeichert?", "faq_data_protection", ranking,
        confidence=0.97, answer_varies=lambda intent: intent == "faq_press_price",
    )  # fmt: skip
    assert decision.intent == "faq_data_protection"
    price = decide(
        "und die große?",
        "faq_press_price",
        [("faq_press_price", 0.97)],
        confidence=0.97,
        answer_varies=lambda intent: intent == "faq_press_price",
    )
    assert price.intent == "follow_up"


def test_a_greeting_with_a_question_is_the_question() -> None:
    ranking = [("greet", 0.7), ("faq_conveyors", 0.2), ("faq_presses", 0.05)]
    assert decide("Hallo, habt ihr auch Förderbänder?", "greet", ranking).intent == "faq_conveyors"
    assert decide("Hallo!", "greet", ranking).intent == "greet"


def test_a_withdrawal_needs_its_words_and_is_no_question_how_to() -> None:
    withdraw = load_questionnaire().controls["withdraw"].said

    facts = "Wir sind die Brandt Metall GmbH aus Hamm, 40 Leute"
    ranking = [("withdraw_consent", 0.8), ("faq_company", 0.1)]
    guess = decide(facts, "withdraw_consent", ranking, says_withdraw=withdraw,
                   facts=lambda said: True)  # fmt: skip
    assert guess.intent == INFORM_INTENT
    how = decide("An wen wende ich mich, wenn meine Daten gelöscht werden sollen?",
                 "withdraw_consent", ranking, says_withdraw=withdraw)  # fmt: skip
    assert how.intent == "faq_data_protection"
    real = decide("Bitte meine Daten sofort löschen", "nlu_fallback", says_withdraw=withdraw)
    assert real.intent == "withdraw_consent"


def test_fixed_intents_and_button_payloads_are_left_alone() -> None:
    assert decide("/affirm", "affirm") == decide("/affirm", "affirm")
    assert decide("Angebot", "erase_everything").intent == "erase_everything"
    assert not decide("/request_callback", "request_callback").changed


@given(st.text(max_size=300), st.sampled_from(["nlu_fallback", "greet", "faq_presses", "affirm"]))
def test_the_decision_never_crashes(text: str, intent: str) -> None:
    decision = decide(text, intent, facts=lambda said: bool(said))
    assert isinstance(decision.intent, str) and decision.intent
