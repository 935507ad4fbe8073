"""The spelling-tolerant form in which words are compared: case, accents, umlauts and
their ASCII spellings do not matter. Pure; shared by the answer parsers and the
conversation rules."""

from __future__ import annotations

import unicodedata

_SPELLED_UMLAUTS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


def fold(word: str) -> str:
    """Lower case without accents, with umlauts and their ASCII spellings made equal.

    "Zürich", "Zuerich" and "Zurich" all fold to "zurich"; "Geschäftsführer" and
    "Geschaeftsfuehrer" to "geschaftsfuhrer". Both sides of a comparison are folded, so
    the occasional odd result ("queue" -> "quu") never matters.
    """
    text = word.lower().replace("ß", "ss")
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    for spelled, plain in _SPELLED_UMLAUTS:
        text = text.replace(spelled, plain)
    return text


def folded_words(words: str) -> frozenset[str]:
    """The folded forms of whitespace-separated words: a compact way to write word lists."""
    return frozenset(fold(word) for word in words.split())
