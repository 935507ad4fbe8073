"""Which language a visitor writes in: German (primary) or English.

Pure Python. The decision uses spaCy's stop-word lists for German and English,
German-only letters (ä, ö, ü, ß) and an optional lexicon of words seen only in one
language's training data (built by `lotse build`). A short or mixed text gives no
confident answer; callers then keep the conversation's language.

What is not natural language says nothing: email addresses, web addresses, words with
digits (part numbers, postal codes), and text that reads as code (SQL, markup,
programming symbols). Names say nothing either: a capitalised word counts only when it
is a stop word or a lexicon word, so "Jürgen Müller" is no German.

Two strengths: `detect_language` (which pipeline to tokenize a message with) and
`clear_language` (whether the message may switch the conversation's language: only
clear natural-language text with at least `MIN_CLEAR_WORDS` function words of the
language does; the conversation's language is sticky otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from dialogue.lexicon import SUPPORTED, Lexicon

NO_LEXICON = Lexicon()  # no words seen in one language only: stop words and letters decide

DEFAULT_LANGUAGE = "de"
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NOISE = re.compile(
    r"\S+@\S+|(?:https?://|www\.)\S+|\S*\d\S*|\S+\.(?:de|com|at|ch|eu|org|net|example)\b",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"\b(?:select|insert|update|delete|drop|create|alter|union|exec)\b.{0,200}?"
    r"\b(?:from|into|table|set|where|values|select)\b|<\s*/?\s*[a-z][^>]*>|[{};=|`$\\]{2}"
    r"|\b\w+\([^)]*\)\s*[;{]|--\s*$|/\*|\*/",
    re.IGNORECASE | re.DOTALL,
)
_CODE_SYMBOLS = set("{}[]<>;=*|`$\\#&^~")
MAX_CODE_SYMBOL_SHARE = 0.06
MIN_CLEAR_WORDS = 2
MIN_CLEAR_SCORE = 3.0
STOP_WORD = 1.0
_GERMAN_LETTERS = set("äöüß")


@dataclass(frozen=True)
class _StopWords:
    de: frozenset[str]
    en: frozenset[str]
    ambiguous: frozenset[str]  # in both lists ("an", "was", "die" in English names...)
    either: frozenset[str]


@cache
def _stop_words() -> _StopWords:
    """spaCy's lists, read on first use: importing spaCy costs seconds (its thinc loads
    TensorFlow), which a command that never detects a language must not pay."""
    from spacy.lang.de.stop_words import STOP_WORDS as DE  # noqa: PLC0415
    from spacy.lang.en.stop_words import STOP_WORDS as EN  # noqa: PLC0415

    de, en = frozenset(DE), frozenset(EN)
    return _StopWords(de, en, de & en, de | en)


def looks_like_code(text: str) -> bool:
    """SQL, markup or programming text rather than a sentence."""
    if _CODE.search(text):
        return True
    visible = [ch for ch in text if not ch.isspace()]
    symbols = sum(ch in _CODE_SYMBOLS for ch in visible)
    return bool(visible) and symbols >= 3 and symbols / len(visible) > MAX_CODE_SYMBOL_SHARE


_ENGLISH_TOO = frozenset({"is", "a", "us", "e", "en", "mi", "no", "net", "ne", "es", "z"})


def _dialect_word(word: str) -> bool:
    from dialogue.dialect import dialect_maps  # noqa: PLC0415 - the maps load on first use

    everywhere, german_only = dialect_maps()
    return word not in _ENGLISH_TOO and (word in everywhere or word in german_only)


def _telling_words(text: str) -> list[str]:
    """The words that may tell a language: no addresses, numbers or part numbers."""
    return _WORD.findall(_NOISE.sub(" ", text))


def _evidence(word: str, lexicon: Lexicon) -> tuple[str, float] | None:
    lowered = word.lower()
    stop = _stop_words()
    if lowered in stop.ambiguous:
        return None
    if lowered in stop.de:
        return "de", STOP_WORD
    if lowered in stop.en:
        return "en", STOP_WORD
    if lowered in lexicon.de:
        return "de", 2.0 if len(lowered) >= 5 else 1.0
    if lowered in lexicon.en:
        return "en", 2.0 if len(lowered) >= 5 else 1.0
    if _GERMAN_LETTERS & set(lowered) and not word[0].isupper():
        return "de", 2.0  # a lower-case word with ä, ö, ü or ß; capitalised: maybe a name
    if _dialect_word(lowered):
        return "de", 1.0  # "ned", "isch", "bruuched": Swiss, Austrian, Bavarian German
    return None


def language_scores(text: str, lexicon: Lexicon = NO_LEXICON) -> dict[str, float]:
    """Evidence per language.

    A lexicon word of five or more letters counts 2 (such words are distinctive:
    "Lieferzeit", "price"), a lower-case word with German letters 2, stop words and
    short lexicon words 1. Text that looks like code tells nothing.
    """
    return _scores(text, lexicon).scores


@dataclass
class _Evidence:
    scores: dict[str, float]
    stop_words: dict[str, set[str]]  # the function words every sentence has, names not
    words: dict[str, set[str]]


def _scores(text: str, lexicon: Lexicon) -> _Evidence:
    evidence = _Evidence({"de": 0.0, "en": 0.0}, {"de": set(), "en": set()},
                         {"de": set(), "en": set()})  # fmt: skip
    if looks_like_code(text):
        return evidence
    telling = _telling_words(text)
    if telling and _GERMAN_LETTERS & set(telling[0].lower()):
        evidence.scores["de"] += 2.0  # "Weiß ...", "Grüß ...": a German word begins it
    for word in telling:
        found = _evidence(word, lexicon)
        if found is not None:
            language, points = found
            evidence.scores[language] += points
            evidence.words[language].add(word.lower())
            if points == STOP_WORD and word.lower() in _stop_words().either:
                evidence.stop_words[language].add(word.lower())
    return evidence


def detect_language(text: str, lexicon: Lexicon = NO_LEXICON, margin: float = 2.0) -> str | None:
    """The language `text` is written in, or None when the evidence is too thin.

    The leader must be ahead by `margin`: a lone "ok" or "hi" decides nothing.
    """
    scores = language_scores(text, lexicon)
    best, other = sorted(SUPPORTED, key=lambda lang: scores[lang], reverse=True)
    lead = scores[best] - scores[other]
    return best if lead >= margin else None


def clear_language(text: str, lexicon: Lexicon = NO_LEXICON) -> str | None:
    """The language of `text` when it is clear enough to switch a conversation to it.

    Natural-language text: at least `MIN_CLEAR_WORDS` different stop words of the
    language (function words: a name, a job title or a company name has none), or one
    in a text of four words or more with three telling words scoring
    `MIN_CLEAR_SCORE` + 1; and at least three times the other language's evidence and
    two points more. An email, a number, a name, a code, a title
    ("Head of Purchasing") or a single word never is.
    """
    evidence = _scores(text, lexicon)
    scores = evidence.scores
    best, other = sorted(SUPPORTED, key=lambda lang: scores[lang], reverse=True)
    stops = len(evidence.stop_words[best])
    enough = stops >= MIN_CLEAR_WORDS or (
        stops >= 1
        and len(_WORD.findall(text)) >= 4
        and len(evidence.words[best]) >= 3
        and scores[best] >= MIN_CLEAR_SCORE + 1
    )
    if not enough:
        return None
    return best if scores[best] >= 3 * scores[other] and scores[best] - scores[other] >= 2 else None


def normalise_language(value: object) -> str | None:
    """Map a channel's language hint ("de-DE", "en_GB", "EN") to a supported code."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED else None


# A language's name as a whole word, inflected ("auf Englisch", "im Deutschen"); the
# countries ("Germany", "Deutschland", "England") are no language.
_LANGUAGE_NAMES = {
    "en": re.compile(r"(?:english|engl|englisch(?:e[mnrs]?)?)"),
    "de": re.compile(r"(?:german|germ|deutsch(?:e[mnrs]?)?|dütsch|ditsch|tüütsch)"),
}


# Words that make a clause about a language say the visitor does not speak it (well):
# "my German is not good", "ich spreche kein Englisch", "mis Dütsch isch nöd so guet".
_LIMITING = frozenset({
    "not", "no", "don't", "dont", "isn't", "isnt", "can't", "cant", "cannot", "bad",
    "poor", "weak", "little", "barely", "hardly", "rusty",
    "nicht", "kein", "keine", "schlecht", "wenig", "kaum", "schwach", "nöd", "ned", "net",
})  # fmt: skip
_CLAUSE = re.compile(r"[.,;:!?\n]+|\b(?:but|aber|sondern|rather|lieber)\b")  # on lowered text
_CLAUSE_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def requested_language(text: str, current: str) -> str:
    """The language a request to switch names ("Können wir Englisch sprechen?"); the
    other one of a language the visitor says they do not speak (well) ("my German is
    not good"); the other one than `current` when it names none.

    Each clause is read on its own: "Do you speak English? My German isn't great" wants
    English; "not German, but English" wants English.
    """
    wanted: set[str] = set()
    unwanted: set[str] = set()
    for clause in _CLAUSE.split(text.lower()):
        words = _CLAUSE_WORD.findall(clause)
        limited = any(word in _LIMITING for word in words)
        for language, name in _LANGUAGE_NAMES.items():
            if any(name.fullmatch(word) for word in words):
                (unwanted if limited else wanted).add(language)
    chosen = wanted - unwanted
    if len(chosen) == 1:
        return chosen.pop()
    if not chosen and len(unwanted) == 1:
        return "de" if unwanted.pop() == "en" else "en"
    return "en" if current == "de" else "de"
