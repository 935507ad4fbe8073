"""Words of a visitor message as the conversation rules compare them.

Contract: `words_of(text)` returns the message's words lower-cased and folded
(umlauts and their ASCII spellings made equal, accents dropped: "Rückruf",
"Rueckruf" and "Ruckruf" are one word), letters repeated for emphasis collapsed
("jaaa" -> "ja", "suuuper" -> "super"), split at anything that is neither a letter, a
digit nor an apostrophe (so "Live-Demo" is "live", "demo"). `similar(word, wanted)`
tolerates one typo in longer words: two letters swapped (five letters or more), one
letter wrong or missing (six or more). A letter too many is not tolerated, because in
German it is mostly an inflection that changes the meaning ("angeboten" is not
"Angebot"). Pure functions; nothing is logged or kept.
"""

from __future__ import annotations

import re

from dialogue.dialect import standard_word
from dialogue.folding import fold

_APOSTROPHES = str.maketrans("", "", "'’`´")
_SPLIT = re.compile(r"[^\w'’`´]+|_", re.UNICODE)
_REPEATS = re.compile(r"(\w)\1{2,}", re.UNICODE)
MIN_SWAP_CHARS = 5
MIN_TYPO_CHARS = 6


def fold_word(word: str) -> str:
    """One word as compared: folded, emphasis repeats collapsed, apostrophes dropped."""
    return _REPEATS.sub(r"\1", fold(word)).translate(_APOSTROPHES)


def words_of(text: str) -> list[str]:
    """The message's words, folded; dialect words in their standard form ("chaufe" is
    "kaufen", `dialogue.dialect`)."""
    words = []
    for part in _SPLIT.split(text or ""):
        standard = standard_word(part, german=False) if part else None
        words += [fold_word(w) for w in standard.split()] if standard else [fold_word(part)]
    return [w for w in words if w]


def similar(word: str, wanted: str) -> bool:
    """`word` is `wanted`, or `wanted` with one typo (see the module docstring)."""
    if word == wanted:
        return True
    if len(wanted) < MIN_SWAP_CHARS or abs(len(word) - len(wanted)) > 1 or len(word) > len(wanted):
        return False
    if len(word) == len(wanted):
        diffs = [i for i, (a, b) in enumerate(zip(word, wanted, strict=True)) if a != b]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            i = diffs[0]
            return word[i] == wanted[i + 1] and word[i + 1] == wanted[i]
        return len(diffs) == 1 and len(wanted) >= MIN_TYPO_CHARS
    # One letter missing from `word`.
    if len(wanted) < MIN_TYPO_CHARS:
        return False
    i = next((k for k, (a, b) in enumerate(zip(word, wanted, strict=False)) if a != b), len(word))
    return word[i:] == wanted[i + 1 :]
