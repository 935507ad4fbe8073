"""The word lists of `bot/data/content/conversation_words.yml`, validated and compiled.

`conversation_words()` reads the file once and raises `ValueError` naming the file and
the section at fault (`lotse build` calls it, so a typo stops the build, not a
conversation). Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dialogue.understanding.patterns import Phrase, compile_phrases
from dialogue.word_yaml import load_words

CONTENT_DIR = Path(__file__).resolve().parents[2] / "bot" / "data" / "content"
WORDS_FILE = CONTENT_DIR / "conversation_words.yml"
SMALL_TALK_KINDS = ("goodbye", "refuse", "thanks", "greeting", "agree", "acknowledge")
"""In the order they win when one message holds several."""
SMALL_TALK_TYPOS_FROM = 7
"""Small talk is made of short everyday words, many one letter apart ("große",
"grüße"): only its longer words tolerate a typo ("dankeschön")."""


@dataclass(frozen=True)
class ConversationWords:
    small_talk: dict[str, tuple[Phrase, ...]]
    fillers: tuple[Phrase, ...]
    question_words: tuple[Phrase, ...]
    self_words: tuple[Phrase, ...]
    follow_up_max_words: int
    follow_up_continue: tuple[Phrase, ...]
    follow_up_refer: tuple[Phrase, ...]
    follow_up_generic: tuple[Phrase, ...]
    asks_whether: tuple[Phrase, ...]
    asks_how: tuple[Phrase, ...]


def _phrases(raw: Any, where: str, typos_from: int = 0) -> tuple[Phrase, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where} must be a non-empty list of phrases")
    try:
        return compile_phrases((str(item) for item in raw), typos_from)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error


def parse_conversation_words(data: Any, source: Path = WORDS_FILE) -> ConversationWords:
    if not isinstance(data, dict):
        raise ValueError(f"{source}: needs the sections small_talk, question_words, follow_up")
    talk = data.get("small_talk")
    follow = data.get("follow_up")
    if not isinstance(talk, dict) or not isinstance(follow, dict):
        raise ValueError(f"{source}: needs the mappings 'small_talk' and 'follow_up'")
    max_words = follow.get("max_words")
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
        raise ValueError(f"{source}: follow_up.max_words must be a whole number >= 1")
    return ConversationWords(
        small_talk={
            kind: _phrases(talk.get(kind), f"{source}: small_talk.{kind}", SMALL_TALK_TYPOS_FROM)
            for kind in SMALL_TALK_KINDS
        },
        fillers=_phrases(talk.get("fillers"), f"{source}: small_talk.fillers", 99),
        question_words=_phrases(data.get("question_words"), f"{source}: question_words", 99),
        self_words=_phrases(data.get("self_words"), f"{source}: self_words", 99),
        follow_up_max_words=max_words,
        follow_up_continue=_phrases(follow.get("continue"), f"{source}: follow_up.continue", 99),
        follow_up_refer=_phrases(follow.get("refer"), f"{source}: follow_up.refer", 99),
        follow_up_generic=_phrases(follow.get("generic"), f"{source}: follow_up.generic", 99),
        asks_whether=_phrases(follow.get("asks_whether"), f"{source}: follow_up.asks_whether", 99),
        asks_how=_phrases(data.get("asks_how"), f"{source}: asks_how", 99),
    )


@lru_cache(maxsize=2)
def conversation_words(path: Path = WORDS_FILE) -> ConversationWords:
    try:
        data = load_words(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML ({error})") from error
    return parse_conversation_words(data, path)
