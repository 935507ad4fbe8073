"""Small talk: a message that only greets, thanks, acknowledges or says goodbye.

Contract: `small_talk_kind(words)` returns "goodbye", "refuse" (a bare no), "thanks",
"greeting", "agree" (a bare yes) or "acknowledge" when every word of the message
(`words_of`) is covered by a phrase of those kinds or by a filler, and at least one
phrase is not a filler; None otherwise
("ok danke" is thanks, "ok, und was kostet die P800?" is not small talk). Such a
message is never a misunderstanding and never an answer. `greeting_end(words)` is the
number of words a message spends greeting before it says something else ("Hallo, ich
brauche ein Angebot" -> 1). `is_non_answer(words)` is True for a message of small talk
and fillers only ("ja gerne", "yes please", "Moment bitte"). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from dialogue.understanding.conversation_words import SMALL_TALK_KINDS, conversation_words
from dialogue.understanding.patterns import PhraseIndex


def _longest_at(index: PhraseIndex, words: Sequence[str], at: int) -> int:
    """The end of the longest phrase that matches exactly at `at` (no gaps), or `at`."""
    best = at
    for phrase in index.starting_with(words[at]):
        size = len(phrase.words)
        window = words[at : at + size]
        if len(window) == size and phrase.end_from(window, 0) == size:
            best = max(best, at + size)
    return best


@lru_cache(maxsize=1)
def _indexes() -> tuple[dict[str, PhraseIndex], PhraseIndex]:
    """The small-talk phrases per kind and the fillers, indexed by their first word."""
    lexicon = conversation_words()
    kinds = {kind: PhraseIndex(lexicon.small_talk[kind]) for kind in SMALL_TALK_KINDS}
    return kinds, PhraseIndex(lexicon.fillers)


def small_talk_kind(words: Sequence[str]) -> str | None:
    kinds = _covering_kinds(words)
    return next((kind for kind in SMALL_TALK_KINDS if kind in (kinds or ())), None)


def small_talk_kinds(words: Sequence[str]) -> frozenset[str]:
    """Every kind of small talk in a message of small talk only ("ja, danke": agree
    and thanks); empty for anything else."""
    return frozenset(_covering_kinds(words) or ())


def is_non_answer(words: Sequence[str]) -> bool:
    """Only small talk and fillers ("ja gerne", "yes please", "Moment", "gute Frage"):
    never an answer to a question, never a value to store."""
    return bool(words) and _covering_kinds(words) is not None


def _covering_kinds(words: Sequence[str]) -> set[str] | None:
    """The small-talk kinds that cover every word, or None when a word is not covered."""
    if not words:
        return None
    talk, fillers = _indexes()
    kinds: set[str] = set()
    at = 0
    while at < len(words):
        ends = {kind: _longest_at(talk[kind], words, at) for kind in SMALL_TALK_KINDS}
        kind, end = max(ends.items(), key=lambda item: item[1])
        filler_end = _longest_at(fillers, words, at)
        if end > at and end >= filler_end:
            kinds.add(kind)
            at = end
        elif filler_end > at:
            at = filler_end
        else:
            return None
    return kinds


def leading_small_talk(words: Sequence[str]) -> tuple[str | None, int]:
    """The small-talk kind the message begins with and how many words it takes
    ("Danke, das wars für heute" -> ("thanks", 1)); (None, 0) when it begins otherwise."""
    for end in range(len(words), 0, -1):
        kind = small_talk_kind(words[:end])
        if kind is not None:
            return kind, end
    return None, 0


def greeting_end(words: Sequence[str]) -> int:
    """How many leading words greet ("hallo zusammen, ..." -> 2); 0 when none does."""
    talk, fillers = _indexes()
    at = 0
    while at < len(words):
        end = max(
            _longest_at(talk["greeting"], words, at),
            _longest_at(fillers, words, at) if at else at,
        )
        if end == at:
            break
        at = end
    return at
