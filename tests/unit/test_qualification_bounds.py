"""The qualification never loops: property tests over random visitor behaviour.

Simulated visitors (hypothesis) answer, misunderstand, ask "why?", decline, digress,
correct, chat, say yes and no at random, with the real questionnaire and the real
answer parsers. Whatever they do, every conversation reaches the summary's end, a stop
or a handoff within the stated bounds (`dialogue/qualification/state.py`): no question is
asked more than `MAX_TURNS_PER_QUESTION` turns (once more after "yes, go on"), and no
qualification takes more than `MAX_QUALIFICATION_TURNS` turns.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogue.qualification.flow import (
    MAX_QUALIFICATION_TURNS,
    MAX_TURNS_PER_QUESTION,
    Outcome,
    State,
    Turn,
    step,
)
from dialogue.qualification.interpret import AnswerInterpreter
from dialogue.qualification.questions import load_questionnaire
from dialogue.understanding.questions import is_question
from dialogue.understanding.small_talk import is_non_answer, small_talk_kind
from dialogue.understanding.words import words_of

Q = load_questionnaire()
READER = AnswerInterpreter()
TODAY = date(2026, 12, 1)
ANSWERS = {
    "need": "eine Presse für Tiefziehteile", "company": "Brandt Umformtechnik GmbH",
    "employees": "so 70 Leute", "industry": "Metallbearbeitung", "role": "Werksleiter",
    "location": "33602 Bielefeld", "timeline": "in vier Monaten", "budget": "200.000 Euro",
    "name": "Jana Brandt", "email": "jana@brandt-umform.example", "phone": "0521 998877",
}  # fmt: skip
KINDS = [
    ("answer", None), ("answer", None), ("answer", None), ("garbage", None),
    ("why", None), ("decline", None), ("yes", "affirm"), ("no", "deny"), ("filler", None),
    ("faq", "faq_warranty"), ("correct", None), ("thanks", "thanks"), ("random", None),
    ("stop", None), ("human", "request_human"),
]  # fmt: skip
BEHAVIOUR = st.sampled_from(KINDS)
TEXTS = {
    "garbage": "qwpoeiru zzz", "why": "wozu wollen Sie das wissen?",
    "decline": "dazu sage ich lieber nichts", "yes": "ja, gern", "no": "nein",
    "filler": "Moment bitte", "faq": "Wie lange gilt eigentlich die Garantie?",
    "correct": "eigentlich sind wir doch 90 Mitarbeiter", "thanks": "danke",
    "stop": "lass uns ein andermal weitermachen",
    "human": "kann ich bitte mit einem Menschen sprechen",
}  # fmt: skip


def turn(text: str, intent: str | None, state: State, **extra: object) -> Turn:
    words = words_of(text)
    return Turn(
        text=text, language="de", today=TODAY, intent=intent,
        confidence=0.9 if intent else 0.0, starting=state.asking is None,
        question=is_question(text, words), small_talk=small_talk_kind(words),
        non_answer=is_non_answer(words), **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def talk_until_the_end(
    choices: list[tuple[str, str | None]], noise: list[str]
) -> tuple[int, Counter]:
    """Turns the qualification took and how often each question was asked in a row."""
    outcome: Outcome = step(Q, State(), turn("Ich hätte gern ein Angebot", None, State()), READER)
    asked: Counter = Counter()
    turns = 0
    for index in range(MAX_QUALIFICATION_TURNS + 5):
        if outcome.finished or outcome.handoff:
            return turns, asked
        asking = outcome.state.asking or ""
        asked[asking] += 1
        kind, intent = choices[index % len(choices)]
        if kind == "answer":
            text = ANSWERS.get(asking, "ja")
        elif kind == "random":
            text = noise[index % len(noise)] if noise else "x"
        else:
            text = TEXTS[kind]
        outcome = step(Q, outcome.state, turn(text, intent, outcome.state), READER)
        turns += 1
    raise AssertionError(f"no end after {turns} turns; asked {dict(asked)}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(BEHAVIOUR, min_size=1, max_size=40),
    st.lists(st.text(max_size=80), max_size=5),
)
def test_every_visitor_reaches_an_end_within_the_bounds(choices, noise) -> None:
    turns, asked = talk_until_the_end(choices, noise)
    assert turns <= MAX_QUALIFICATION_TURNS + 1
    for key, times in asked.items():
        if key.startswith("@"):
            continue
        assert times <= 2 * (MAX_TURNS_PER_QUESTION + 1), (key, times)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["garbage", "filler", "why", "faq", "thanks", "random", "decline"]))
def test_a_visitor_who_never_answers_is_let_go_question_by_question(kind: str) -> None:
    intent = dict(KINDS).get(kind)
    turns, asked = talk_until_the_end([(kind, intent), ("yes", "affirm")], ["???"])
    questions = len(Q.questions)
    assert turns <= questions * (MAX_TURNS_PER_QUESTION + 2) + 12
    assert all(times <= MAX_TURNS_PER_QUESTION + 2 for k, times in asked.items() if k[:1] != "@")


def test_a_cooperative_visitor_reaches_the_summary_and_submits() -> None:
    outcome = step(Q, State(), turn("Ich hätte gern ein Angebot", None, State()), READER)
    for _ in range(20):
        asking = outcome.state.asking or ""
        text = {"@consent": "ja", "@summary": "passt so"}.get(asking) or ANSWERS[asking]
        outcome = step(Q, outcome.state, turn(text, None, outcome.state), READER)
        if outcome.finished:
            break
    assert outcome.submitted
