"""The conversation evaluation (docs/conversation_eval.md): its corpus, kept apart from
the training data, its scoring, and a fixed part of it against the running stack with
the floors of issue 17.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialogue.content import load_content
from dialogue.nlu_examples import nlu_examples
from dialogue.qualification.questions import load_questionnaire
from ops.conversation_corpus import (
    CORPUS_DIR,
    Conversation,
    CorpusError,
    corpus_files,
    load_corpus,
    visitor_texts,
)
from ops.conversation_eval import field_right, figures, score
from ops.simulated_visitor import Visit

MIN_SHARED_WORDS = 3
"""Shorter messages ("Ja", "ok danke", "Passt so") are everybody's words."""


def corpus(which: str = "all") -> list[Conversation]:
    return load_corpus(
        corpus_files(which), load_questionnaire().keys, load_content().topics
    )  # fmt: skip


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w@.]+", " ", text.casefold()).split())


def test_the_corpus_is_big_enough_and_covers_every_style() -> None:
    conversations = corpus()
    assert len(conversations) >= 150
    styles = {c.style for c in conversations}
    assert styles == {"de_formal", "de_informal", "de_at", "de_ch", "en"}
    assert {c.source for c in conversations} == {"dev", "test"}
    outcomes = {c.outcome for c in conversations}
    assert {"submitted", "stopped", "handoff", "no_enquiry", "declined_offer"} <= outcomes


def test_no_corpus_message_is_a_training_example() -> None:
    training = {_norm(text) for _, text in nlu_examples()}
    shared = sorted(
        text
        for conversation in corpus()
        for text in visitor_texts(conversation)
        if len(_norm(text).split()) >= MIN_SHARED_WORDS and _norm(text) in training
    )
    assert shared == []


def test_a_malformed_corpus_is_refused_with_file_and_conversation(tmp_path: Path) -> None:
    bad = tmp_path / "dev_x.yml"
    bad.write_text(
        "conversations:\n  - id: x\n    style: de_formal\n    expect: {outcome: maybe}\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"dev_x.yml: conversation 1 \(x\): expect.outcome"):
        load_corpus([bad], load_questionnaire().keys, load_content().topics)


def test_yaml_words_stay_words_in_the_corpus(tmp_path: Path) -> None:
    path = tmp_path / "dev_no.yml"
    path.write_text(
        "conversations:\n  - id: n\n    style: en\n    opening: [no]\n"
        "    expect: {outcome: no_enquiry, fields: {location: {country: NO}}}\n",
        encoding="utf-8",
    )
    [conversation] = load_corpus([path], load_questionnaire().keys, load_content().topics)
    assert conversation.opening[0].say == "no"
    assert conversation.fields["location"] == {"country": "NO"}


@pytest.mark.parametrize(
    ("key", "expected", "value", "right"),
    [
        ("employees", 60, {"count": 60, "low": 60, "high": 60}, True),
        ("employees", "50-70", {"count": 60, "low": 50, "high": 70}, True),
        ("timeline", 3, {"months": 4}, True),
        ("timeline", 3, {"months": 5}, False),
        ("location", {"country": "NL", "postal_code": "3011 AB"},
         {"country": "NL", "postal_code": "3011AB"}, True),
        ("location", {"country": "AT"}, {"country": "AT", "postal_code": "1010"}, True),
        ("company", "Huber AG", {"name": " huber ag"}, True),
        ("phone", "+49 521 12345", {"number": "+4952112345"}, True),
        ("industry", "other", {"key": "other_manufacturing"}, False),
    ],
)  # fmt: skip
def test_fields_are_compared_as_the_format_says(key, expected, value, right) -> None:
    assert field_right(key, expected, {"value": value, "status": "answered"})[0] is right


def test_a_stored_filler_and_an_early_fact_asked_again_are_misses() -> None:
    [conversation] = [c for c in corpus("dev") if c.outcome == "submitted"][:1]
    visit = Visit(conversation, "eval-x", outcome="submitted", non_answers=["ja gerne"])
    visit.asked_again.append("employees")
    company = {"value": {"name": "Ja gerne"}, "status": "answered"}
    lead = {"email": "x@y.example", "consent": {"version": "1"}, "answers": {"company": company}}
    scored = score(visit, lead, frozenset({"budget", "phone"}))
    assert scored.fillers == ["company: 'Ja gerne'"] and scored.missed
    found = figures([scored])
    assert found.fillers == 1 and found.asked_again == 1


@pytest.mark.model
def test_a_fixed_part_of_the_corpus_holds_the_floors(stack) -> None:
    """Every fourth conversation of both sets against the session's stack."""
    from ops.eval_conversations_command import run_against

    part = corpus()[::4]
    results = run_against(stack, part, jobs=4)
    found = figures(results)
    misses = [r.visit.conversation.id for r in results if r.missed]
    assert found.loops == 0, misses
    assert found.fillers == 0, misses
    assert found.asked_again == 0, misses
    assert found.errors == 0, misses
    assert found.lead_share >= 0.95, misses
    assert found.field_accuracy >= 0.97, misses
    assert found.wrong_language == 0, misses


def test_the_corpus_lives_in_its_own_folder() -> None:
    assert CORPUS_DIR.name == "eval_conversations"
    assert all(p.name.startswith(("dev_", "test_")) for p in corpus_files())
