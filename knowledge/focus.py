"""The nouns a question asks about: those of its asking sentence (the one ending in "?",
`knowledge.answering.asking_part`) outside prepositional phrases and side clauses'
hyphenated words. In German a noun is a capitalised word that does not start its
clause ("Welche Lackfarbe haben die Pressen?"); English does not capitalise nouns, so
there only acronyms ("an ATEX version") and names count (capitalised where no sentence
starts: "whose rollers, Interroll?"). "Ich suche eine Presse für
Tiefziehteile" asks about a press, not about deep-drawn parts. `side_words` are the
other nouns of a German question, those of its prepositional phrases and side clauses
of a clause giving a reason or a condition ("wegen unserem Stromnetz in der Halle"):
why it is asked, not what. The word after "wie"/"how" is the property asked
(`property_words`: "Wie alt ist euer Geschäftsführer?" asks his age). Pure.
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
_HOW = frozenset(("wie", "how"))
_QUANTITY = frozenset(("viel", "viele", "much", "many", "oft", "often", "lang", "lange", "long"))
_SIDE_CLAUSE = frozenset(("weil", "dass", "damit", "wenn", "falls", "da", "obwohl", "wegen"))
_PER = frozenset(("pro", "per", "je"))
_ARTICLES = frozenset(("a", "an", "the", "ein", "eine", "einen", "einem", "der", "die", "das"))
_MOST_BEFORE_UNIT = 3  # "pro laufendem Meter", "per single machine"
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)\W*([^\W_]+)")
_ASKING = re.compile(r"(?<=[.!?])\s+")


def asking_part(message: str) -> str:
    """The sentences of a message that ask (end with "?"), else the whole message:
    "Hallo! Wir haben strenge Regeln. Wie laut ist die P400?" asks the last one."""
    asking = [s for s in _ASKING.split(message.strip()) if s.rstrip().endswith("?")]
    return " ".join(asking) if asking else message


def focus_words(question: str, language: str) -> str:
    prepositions = PREPOSITIONS.get(language, frozenset())
    part = asking_part(question)
    starting = {m.group(1) for m in _SENTENCE_START.finditer(part)}
    kept = []
    for clause in _CLAUSES.split(part):
        words = _WORD.findall(clause)
        phrase = False  # within a prepositional phrase
        for n, word in enumerate(words):
            if word.lower() in prepositions:
                if language != "de":
                    break  # the rest of the clause is the phrase's
                phrase = True
                continue
            if phrase:  # a German phrase ends with its noun: "für unsere Instandhalter"
                phrase = not word[:1].isupper()
                continue
            if any(mark in word for mark in "-'’"):
                continue
            acronym = len(word) >= 2 and word.isalpha() and word.isupper()
            noun = language == "de" and n > 0 and word[:1].isupper() and word[1:].islower()
            if acronym or noun or (language == "en" and _proper(word, starting)):
                kept.append(word)
    return " ".join(kept)


def _proper(word: str, starting: set[str]) -> bool:
    """An English name: capitalised where a sentence does not start ("Interroll",
    "Rexroth"), not "I"."""
    return word not in starting and word != "I" and word[:1].isupper() and word[1:].islower()


def side_words(question: str, language: str) -> str:
    """A German question's nouns in a clause that gives its reason or condition: "Wie
    stark ist der Motor der P400, wegen unserem Stromnetz in der Halle?" gives
    "Stromnetz Halle". English has no capitalised nouns to tell: nothing."""
    if language != "de":
        return ""
    side = []
    for clause in _CLAUSES.split(asking_part(question)):
        words = _WORD.findall(clause)
        if words and words[0].lower() in _SIDE_CLAUSE:
            side += [w for w in words[1:] if w[:1].isupper() and w[1:].islower()]
    return " ".join(side)


def property_words(question: str) -> str:
    """The words right after "wie"/"how" but for how much, many, often and long: the
    property asked ("Wie alt ist ...", "how old", "wie schwer", "how loud")."""
    words = _WORD.findall(asking_part(question))
    return " ".join(word for before, word in zip(words, words[1:], strict=False)
                    if before.lower() in _HOW and word.lower() not in _QUANTITY)  # fmt: skip


def rate_words(question: str) -> str:
    """The unit a rate is asked in: the noun after "pro"/"per"/"je" ("wie viele Paletten
    pro Stunde", "was kostet die Anfahrt pro Kilometer", "per machine"), adjectives
    between left out: a passage answers it only if it says that unit."""
    words = _WORD.findall(asking_part(question))
    units = []
    for n, word in enumerate(words[:-1]):
        if word.lower() in _PER:
            rest = words[n + 1:n + 1 + _MOST_BEFORE_UNIT]
            noun = next((w for w in rest if w.lower() not in _ARTICLES and not _inflected(w)),
                        None)  # fmt: skip
            if noun:
                units.append(noun)
    return " ".join(units)


def _inflected(word: str) -> bool:
    """An adjective's inflected form before the unit ("pro laufendem Meter")."""
    return word[:1].islower() and word.lower().endswith(("em", "en", "er", "es"))
