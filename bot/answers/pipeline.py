"""The bounded answer text and its spaCy doc, shared by all answer parsers.

Contract: `bounded` turns anything into clean text of at most `MAX_ANSWER_CHARS`
characters (control and format characters dropped, NFC, whitespace collapsed); parsers
see nothing beyond it. `full_doc` runs the language's pipeline once (tokens, lookup
lemmas, entity ruler); `token_doc` only tokenises, for parsers that need no lemmas.
`fold` is the spelling-tolerant form words are compared in. The text is personal data:
nothing here logs or keeps it.
"""

from __future__ import annotations

import unicodedata

from spacy.language import Language
from spacy.tokens import Doc

from bot.nlu.spacy_pipelines import load_pipelines
from bot.text_input import clean_visitor_text

MAX_ANSWER_CHARS = 500
"""An answer to a qualification question is short; anything beyond this is ignored."""

_SPELLED_UMLAUTS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


def bounded(text: object) -> str:
    """Clean, bounded text; the empty string for anything that is not a string."""
    return clean_visitor_text(text, max_chars=MAX_ANSWER_CHARS)


def pipeline_language(language: object) -> str:
    """The pipeline to use: English for "en…" hints, German (primary) for anything else."""
    if isinstance(language, str) and language.strip().lower().startswith("en"):
        return "en"
    return "de"


def nlp_for(language: object) -> Language:
    return load_pipelines()[pipeline_language(language)]


def full_doc(text: str, language: object) -> Doc:
    """One full pipeline pass (tokens, lemmas, rule entities) over already bounded text."""
    return nlp_for(language)(text)


def token_doc(text: str, language: object) -> Doc:
    """Tokens only (no lemmas), for parsers that match characters or surface words."""
    return nlp_for(language).make_doc(text)


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
