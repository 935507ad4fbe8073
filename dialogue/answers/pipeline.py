"""The bounded answer text and its spaCy doc, shared by all answer parsers.

Contract: `bounded` turns anything into clean text of at most `MAX_ANSWER_CHARS`
characters (control and format characters dropped, NFC, whitespace collapsed); parsers
see nothing beyond it. `full_doc` runs the language's pipeline once (tokens, lookup
lemmas, entity ruler); `token_doc` only tokenises, for parsers that need no lemmas.
`fold` is the spelling-tolerant form words are compared in. The text is personal data:
nothing here logs or keeps it.
"""

from __future__ import annotations

from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from dialogue.dialect import standard_german
from dialogue.folding import fold, folded_words
from dialogue.language import language_scores
from dialogue.lexicon import Lexicon
from dialogue.spacy_pipelines import PIPELINES_DIR, load_lexicon, load_pipelines
from dialogue.text_input import clean_visitor_text

__all__ = [
    "bounded", "fold", "folded_words", "full_doc", "nlp_for", "pipeline_language", "token_doc",
]  # fmt: skip

MAX_ANSWER_CHARS = 500
"""An answer to a qualification question is short; anything beyond this is ignored."""


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
    """One full pipeline pass (tokens, lemmas, rule entities) over already bounded text;
    German text with its dialect words in standard German (`dialogue.dialect`: "öppe 60 Lüüt"
    is read as "ungefähr 60 Leute"). Names are read from `token_doc`, which keeps every
    word as written."""
    if pipeline_language(language) == "de" and not _looks_english(text):
        text = standard_german(text)  # not English typed in a German conversation
    return nlp_for(language)(text)


@lru_cache(maxsize=1)
def _lexicon() -> Lexicon:
    return load_lexicon(PIPELINES_DIR)


def _looks_english(text: str) -> bool:
    scores = language_scores(text, _lexicon())
    return scores["en"] > scores["de"]


def token_doc(text: str, language: object) -> Doc:
    """Tokens only (no lemmas), for parsers that match characters or surface words."""
    return nlp_for(language).make_doc(text)
