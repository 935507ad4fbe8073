"""The visitor's name (personal data: nothing here logs or keeps it).

Contract: `parse_name(text, language)` returns `PersonName(full)` or None. It strips
greetings, lead-ins ("Ich bin", "mein Name ist", "I'm", "my name is", "this is") and
titles ("Herr", "Frau", "Mr", "Ms", "Dr.", "Prof."), then accepts one to four words of
letters (any script, umlauts and accents included) joined by hyphens or apostrophes,
plus single-letter initials ("A."). Digits, email addresses, URLs, answers that are only
stop words ("nein", "ich"), sentences (mostly stop words, or lower-case words among
capitalised ones) and refusals ("keine Angabe", "anonym") give None. An
all-lower-case name is title-cased ("anna-lena o'brien" -> "Anna-Lena O'Brien"),
keeping particles such as "von" and "van" lower case. Never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.lang.de.stop_words import STOP_WORDS as DE_STOP_WORDS
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS
from spacy.tokens import Doc

from dialogue.answers.pipeline import bounded, fold, folded_words, token_doc

MAX_NAME_WORDS = 4
MAX_NAME_CHARS = 100

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|[^\W\d_]\.", re.UNICODE)
_GREETINGS = folded_words("hallo hi hey hello moin servus guten tag grüß gott good morning "
                          "afternoon evening , : ! - .")  # fmt: skip
_LEAD_INS = tuple(
    sorted(
        (
            tuple(fold(word) for word in phrase.split())
            for phrase in (
                "ich bin", "ich heiße", "ich heisse", "mein name ist", "mein name lautet",
                "mein name", "name ist", "name", "hier ist", "hier spricht", "hier",
                "das ist", "i am", "i 'm", "i'm", "im", "my name is", "my name 's",
                "my name's", "my name", "name is", "this is", "it 's", "it's", "it is",
                "call me", "you can call me", "ich bin der", "ich bin die",
            )
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
_TITLES = folded_words("herr herrn frau hr. hr fr. fr mr mr. mrs mrs. ms ms. miss dr dr. "
                       "prof prof. dipl.-ing. dipl.-ing ing. mag. sir madam dr.-ing.")  # fmt: skip
_PARTICLES = frozenset({"von", "van", "de", "der", "den", "zu", "zum", "vom", "da", "di", "du",
                        "la", "le", "ten", "ter", "bin", "al", "el", "y"})  # fmt: skip
_REFUSALS = folded_words(
    "keine angabe anonym anonymous egal nein nope danke thanks test bot privat private "
    "unknown geheim secret no yes ja ok okay niemand nobody weiß nicht grüße gruß grüß "
    "regards cheers"
)
_STOP_WORDS = frozenset(DE_STOP_WORDS | EN_STOP_WORDS)


@dataclass(frozen=True)
class PersonName:
    full: str


def parse_name(text: str, language: str) -> PersonName | None:
    text = bounded(text)
    if not text or any(ch.isdigit() for ch in text) or "@" in text:
        return None
    doc = token_doc(text, language)
    if any(token.like_url or token.like_email for token in doc):
        return None
    start, end = _name_span(doc)
    if start >= end:
        return None
    words = doc[start:end].text.split()
    if not 1 <= len(words) <= MAX_NAME_WORDS or not all(_WORD.fullmatch(w) for w in words):
        return None
    lowered = [w.lower() for w in words]
    if any(fold(w) in _REFUSALS for w in lowered):
        return None
    if 2 * sum(w in _STOP_WORDS and w not in _PARTICLES for w in lowered) > len(words):
        return None
    if not text.islower() and any(w[0].islower() and w not in _PARTICLES for w in words):
        return None  # "Ich möchte kaufen": a sentence, not a name
    full = " ".join(_title_cased(w) for w in words) if text.islower() else " ".join(words)
    return PersonName(full) if len(full) <= MAX_NAME_CHARS else None


def _name_span(doc: Doc) -> tuple[int, int]:
    """Token positions of the name after greetings, lead-ins and titles."""
    folded = [fold(token.text) for token in doc]
    start, end = 0, len(doc)
    while start < end and folded[start] in _GREETINGS:
        start += 1
    for phrase in _LEAD_INS:
        if tuple(folded[start : start + len(phrase)]) == phrase:
            start += len(phrase)
            break
    while start < end and (folded[start] in _TITLES or folded[start] in _GREETINGS):
        start += 1
    while end > start and doc[end - 1].is_punct and doc[end - 1].text != ".":
        end -= 1
    if end > start and doc[end - 1].text == "." and len(doc[start:end].text.split()[-1]) > 2:
        end -= 1
    return start, end


def _title_cased(word: str) -> str:
    return word if word in _PARTICLES else word.title()
