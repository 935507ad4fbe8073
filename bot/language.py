"""Which language a visitor writes in: German (primary) or English.

Pure Python. The decision uses spaCy's stop-word lists for German and English,
German-only letters (ä, ö, ü, ß) and an optional lexicon of words seen only in one
language's training data (built by `lotse build`). A short or mixed text gives no
confident answer; callers then keep the conversation's language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from spacy.lang.de.stop_words import STOP_WORDS as DE_STOP_WORDS
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS

SUPPORTED = ("de", "en")
DEFAULT_LANGUAGE = "de"
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_GERMAN_LETTERS = set("äöüß")
# Words in both stop lists ("an", "was", "die" in English names...) say nothing.
_AMBIGUOUS = DE_STOP_WORDS & EN_STOP_WORDS


@dataclass(frozen=True)
class Lexicon:
    """Words seen in only one language's training examples."""

    de: frozenset[str] = frozenset()
    en: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(de=frozenset(data.get("de", [])), en=frozenset(data.get("en", [])))

    @classmethod
    def from_examples(cls, examples: dict[str, list[str]]) -> Lexicon:
        words = {
            lang: {w.lower() for t in texts for w in _WORD.findall(t)}
            for lang, texts in examples.items()
        }
        de, en = words.get("de", set()), words.get("en", set())
        return cls(de=frozenset(de - en), en=frozenset(en - de))

    def to_json(self) -> str:
        return json.dumps({"de": sorted(self.de), "en": sorted(self.en)}, ensure_ascii=False)


def language_scores(text: str, lexicon: Lexicon = Lexicon()) -> dict[str, float]:
    """Evidence per language.

    German letters count 2, a lexicon word of five or more letters 2 (such words are
    distinctive: "Lieferzeit", "price"), stop words and short lexicon words 1.
    """
    scores = {"de": 0.0, "en": 0.0}
    for word in (w.lower() for w in _WORD.findall(text)):
        if _GERMAN_LETTERS & set(word):
            scores["de"] += 2
        elif word in _AMBIGUOUS:
            continue
        elif word in DE_STOP_WORDS:
            scores["de"] += 1
        elif word in EN_STOP_WORDS:
            scores["en"] += 1
        elif word in lexicon.de:
            scores["de"] += 2 if len(word) >= 5 else 1
        elif word in lexicon.en:
            scores["en"] += 2 if len(word) >= 5 else 1
    return scores


def detect_language(text: str, lexicon: Lexicon = Lexicon(), margin: float = 2.0) -> str | None:
    """The language `text` is written in, or None when the evidence is too thin.

    The leader must be ahead by `margin`: a lone "ok" or "hi" decides nothing.
    """
    scores = language_scores(text, lexicon)
    best, other = sorted(SUPPORTED, key=lambda lang: scores[lang], reverse=True)
    lead = scores[best] - scores[other]
    return best if lead >= margin else None


def normalise_language(value: object) -> str | None:
    """Map a channel's language hint ("de-DE", "en_GB", "EN") to a supported code."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED else None
