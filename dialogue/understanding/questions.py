"""Whether a message asks something.

Contract: `is_question(text, words)` is True when the text holds a question mark or
begins (after a greeting) with a question word of `conversation_words.yml` ("Was
kosten eigentlich Wartungsverträge", "how long is the warranty"). A question is never
read as a correction of an earlier answer. `asks_whether` and `asks_how` tell questions
about a thing (whether it exists, how to get it) from requests for it. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogue.understanding.conversation_words import conversation_words
from dialogue.understanding.patterns import Phrase, first_match
from dialogue.understanding.small_talk import greeting_end


def is_question(text: str, words: Sequence[str]) -> bool:
    if "?" in text or "¿" in text:
        return True
    return _begins_with(words, conversation_words().question_words)


def asks_whether(text: str, words: Sequence[str]) -> bool:
    """A question whether something exists or is possible ("Gibt es eine Testphase?")."""
    return is_question(text, words) and _begins_with(words, conversation_words().asks_whether)


def asks_how(text: str, words: Sequence[str]) -> bool:
    """A question how, where, when or whom, or under a condition ("an wen ..., wenn
    ich meine Daten löschen lassen möchte?"): it asks about a thing, it does not ask
    for it."""
    return is_question(text, words) and (
        first_match(conversation_words().asks_how, words) is not None
    )


_CONTINUATIONS = frozenset({"und", "and", "also", "btw", "ubrigens", "noch", "ach", "oh", "so"})


def _begins_with(words: Sequence[str], phrases: Sequence[Phrase]) -> bool:
    """After a greeting and a continuation ("und gibts ..."), begins with a phrase."""
    start = greeting_end(words)
    while start < len(words) and words[start] in _CONTINUATIONS:
        start += 1
    rest = list(words[start:])
    return any(p.find(rest[: len(p.words)]) == (0, len(p.words)) for p in phrases)
