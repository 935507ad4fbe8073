"""The documents' vocabulary file (`bot/data/documents/vocabulary.yml`): concepts (what
the documents call a thing, and how visitors ask for it), words to ignore, and the
words that name a question's subject. Data a company edits; `VocabularyError` names
the file and what is wrong.

A concept's words are lemmatised and folded like every other term (`knowledge.terms`),
so "wiegt", "Wiegt" and "wiegen" are one. A word may belong to several concepts. The
matching is one way: a passage is about a concept for its `words` only, a question for
its `words` and its `asked` words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from dialogue.folding import fold

VOCABULARY_FILE = (
    Path(__file__).resolve().parents[1] / "bot" / "data" / "documents" / "vocabulary.yml"
)
CONCEPT_PREFIX = "concept"
WordMap = Mapping[str, frozenset[str]]


class VocabularyError(ValueError):
    """The vocabulary file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Vocabulary:
    documents: WordMap = field(default_factory=dict)  # a document's word -> concepts
    asked: WordMap = field(default_factory=dict)  # a question's word -> concepts
    ignored: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()

    def lemmatised(self, lemma: Callable[[str], Iterable[str]]) -> Vocabulary:
        """The same vocabulary with every word also under its lemmas (`lemma` gives a
        word's lemmas in every language)."""
        return replace(
            self,
            documents=_with_lemmas(self.documents, lemma),
            asked=_with_lemmas(self.asked, lemma),
            subjects=frozenset(f for w in self.subjects for f in {w, *lemma(w)}),
        )


def _with_lemmas(words: WordMap, lemma: Callable[[str], Iterable[str]]) -> WordMap:
    found: dict[str, set[str]] = {}
    for word, names in words.items():
        for form in {word, *lemma(word)}:
            found.setdefault(form, set()).update(names)
    return {w: frozenset(n) for w, n in found.items()}


def concept_token(name: str) -> str:
    """The token a concept is indexed and searched as (letters only, for any engine)."""
    return CONCEPT_PREFIX + "".join(ch for ch in fold(name) if ch.isalnum())


def _words(path: Path, value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise VocabularyError(f"{path}: {where} must be a list of words")
    return [fold(w.strip()) for w in value]


def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise VocabularyError(f"{path}: cannot be read ({type(error).__name__})") from None
    concepts = data.get("concepts") or {}
    if not isinstance(concepts, dict):
        raise VocabularyError(f"{path}: 'concepts' must be a mapping")
    documents: dict[str, set[str]] = {}
    asked: dict[str, set[str]] = {}
    for name, entry in concepts.items():
        if not isinstance(entry, dict) or not entry.get("words"):
            raise VocabularyError(f"{path}: concept {name!r} needs `words` (and may have `asked`)")
        own = _words(path, entry.get("words"), f"concept {name!r} words")
        for word in own:
            documents.setdefault(word, set()).add(str(name))
        for word in own + _words(path, entry.get("asked"), f"concept {name!r} asked"):
            asked.setdefault(word, set()).add(str(name))
    return Vocabulary(
        {w: frozenset(n) for w, n in documents.items()},
        {w: frozenset(n) for w, n in asked.items()},
        frozenset(_words(path, data.get("ignore"), "'ignore'")),
        frozenset(_words(path, data.get("subjects"), "'subjects'")),
    )
