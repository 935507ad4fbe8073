"""The nouns a question asks about: those of its asking sentence (the one ending in "?",
`knowledge.answering.asking_part`) outside prepositional phrases and side clauses'
hyphenated words. In German a noun is a capitalised word that does not start its
clause ("Welche Lackfarbe haben die Pressen?"); English does not capitalise nouns, so
there only acronyms count ("an ATEX version"). "Ich suche eine Presse für
Tiefziehteile" asks about a press, not about deep-drawn parts. Pure.
"""

from __future__ import annotations

import re

PREPOSITIONS = {
    "de": frozenset((
        "für", "aus", "bei", "in", "im", "von", "vom", "mit", "zu", "zum", "zur", "an", "am",
        "auf", "über", "unter", "nach", "wegen", "seit", "ohne",
    )),
    "en": frozenset((
        "for", "from", "in", "at", "with", "of", "on", "by", "about", "to", "into", "after",
        "without", "since",
    )),
}  # fmt: skip
_CLAUSES = re.compile(
    r"[,;:–]\s*|\s-\s|\s(?:und|oder|aber|weil|dass|and|or|but|because|that)\s"
)
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_ASKING = re.compile(r"(?<=[.!?])\s+")


def asking_part(message: str) -> str:
    """The sentences of a message that ask (end with "?"), else the whole message:
    "Hallo! Wir haben strenge Regeln. Wie laut ist die P400?" asks the last one."""
    asking = [s for s in _ASKING.split(message.strip()) if s.rstrip().endswith("?")]
    return " ".join(asking) if asking else message


def focus_words(question: str, language: str) -> str:
    prepositions = PREPOSITIONS.get(language, frozenset())
    kept = []
    for clause in _CLAUSES.split(asking_part(question)):
        for n, word in enumerate(_WORD.findall(clause)):
            if word.lower() in prepositions:
                break  # the rest of the clause is the phrase's
            if any(mark in word for mark in "-'’"):
                continue
            acronym = len(word) >= 2 and word.isalpha() and word.isupper()
            noun = language == "de" and n > 0 and word[:1].isupper() and word[1:].islower()
            if acronym or noun:
                kept.append(word)
    return " ".join(kept)
