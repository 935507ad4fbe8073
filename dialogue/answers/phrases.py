"""Finding the words of a keyword table (industries, roles, countries, cities) in a doc.

A phrase is one or more words, tokenised by the same spaCy pipeline as the doc. A
phrase word matches a token when they agree after folding (case-, accent- and
umlaut-tolerant) in the token's text, its lemma, its ungendered German form
("Geschäftsführerin" -> "geschäftsführer") or its English singular ("shops" -> "shop").
Exact-case phrases ("IT", "US", "Essen") match only as written. Parts match inside one
German compound word: as its head at the end ("Vertriebsingenieur") or as its modifier
at the start ("Blechbearbeitungsbetrieb"). Whole phrases win over parts, heads over
modifiers, longer over shorter; hits never overlap. Pure and read-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from spacy.tokens import Doc, Token

from dialogue.answers.pipeline import fold, nlp_for

V = TypeVar("V")

MIN_PART_CHARS = 4
_GENDER_BASES = ("er", "eur", "ent", "ant", "ist", "or", "and")
_WHOLE, _HEAD, _MODIFIER = 2, 1, 0


_HYPHENS = frozenset("-‐‑–")
"""Hyphen tokens, passed over inside a phrase."""


@dataclass(frozen=True)
class Hit(Generic[V]):
    value: V
    start: int
    end: int
    rank: tuple[int, int]


@dataclass(frozen=True)
class _Pattern(Generic[V]):
    folded: tuple[str, ...]
    exact: tuple[str, ...] | None
    value: V


def ungendered(word: str) -> str | None:
    """The masculine base of a German feminine form, or None ("ingenieurin" -> "ingenieur")."""
    for suffix in ("innen", "in"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 4 and base.endswith(_GENDER_BASES):
            return base
    return None


def token_forms(token: Token) -> list[str]:
    """The forms a token matches in, the word as written first: where a phrase matches
    the written word and another its lemma ("stamping", "stamp"), the written one wins,
    the same in every process (a set's order would differ)."""
    forms = [fold(token.text)]
    if token.lemma_ and fold(token.lemma_) not in forms:
        forms.append(fold(token.lemma_))
    for form in list(forms):
        base = ungendered(form)
        if base and base not in forms:
            forms.append(base)
        plural = len(form) > 3 and form.endswith("s") and not form.endswith("ss")
        if plural and form[:-1] not in forms:
            forms.append(form[:-1])
    return forms


class PhraseTable(Generic[V]):
    """Phrases and compound parts, each standing for a value."""

    def __init__(self, rows: Iterable[tuple[V, Iterable[str], Iterable[str], Iterable[str]]]):
        """`rows`: (value, phrases, exact-case phrases, parts) per entry, in priority order."""
        self._rows = [
            (value, tuple(phrases), tuple(exact), tuple(parts))
            for value, phrases, exact, parts in rows
        ]
        self._parts: dict[str, V] = {}
        for value, _, _, parts in self._rows:
            for part in parts:
                if len(fold(part)) >= MIN_PART_CHARS:
                    self._parts.setdefault(fold(part), value)
        self._indexes: dict[str, dict[str, list[_Pattern[V]]]] = {}

    def _index(self, language: str) -> dict[str, list[_Pattern[V]]]:
        if language not in self._indexes:
            nlp = nlp_for(language)
            index: dict[str, list[_Pattern[V]]] = {}
            for value, phrases, exact, _ in self._rows:
                for phrase, is_exact in [(p, False) for p in phrases] + [(p, True) for p in exact]:
                    words = tuple(t.text for t in nlp.make_doc(phrase) if t.text not in _HYPHENS)
                    if not words:
                        continue
                    pattern = _Pattern(
                        tuple(fold(w) for w in words), words if is_exact else None, value
                    )
                    index.setdefault(pattern.folded[0], []).append(pattern)
            for patterns in index.values():
                patterns.sort(key=lambda p: -len(p.folded))
            self._indexes[language] = index
        return self._indexes[language]

    def hits(self, doc: Doc) -> list[Hit[V]]:
        """Non-overlapping hits in text order."""
        forms = [token_forms(token) for token in doc]
        candidates = self._phrase_hits(doc, forms) + self._part_hits(forms)
        candidates.sort(key=lambda hit: (hit.rank, -hit.start), reverse=True)
        taken: set[int] = set()
        chosen = []
        for hit in candidates:
            span = set(range(hit.start, hit.end))
            if not span & taken:
                taken |= span
                chosen.append(hit)
        return sorted(chosen, key=lambda hit: hit.start)

    @property
    def values(self) -> list[V]:
        """The values of the table's entries, in priority order."""
        return [value for value, _, _, _ in self._rows]

    def first(self, doc: Doc) -> V | None:
        found = self.hits(doc)
        return found[0].value if found else None

    def _phrase_hits(self, doc: Doc, forms: list[list[str]]) -> list[Hit[V]]:
        index = self._index(doc.lang_)
        found = []
        for start, token_forms_ in enumerate(forms):
            for form in token_forms_:
                for pattern in index.get(form, ()):
                    end = self._match_end(doc, forms, start, pattern)
                    if end is not None:
                        rank = (_WHOLE, len(doc[start:end].text))
                        found.append(Hit(pattern.value, start, end, rank))
        return found

    @staticmethod
    def _match_end(
        doc: Doc, forms: list[list[str]], start: int, pattern: _Pattern[V]
    ) -> int | None:
        """Where `pattern` ends if it matches at `start`; hyphens between its words are
        passed over ("special-purpose machines" is "special purpose machines")."""
        position = start
        for k, word in enumerate(pattern.folded):
            while k and position < len(doc) and doc[position].text in _HYPHENS:
                position += 1
            if position >= len(doc):
                return None
            if pattern.exact is not None:
                if doc[position].text != pattern.exact[k]:
                    return None
            elif word not in forms[position]:
                return None
            position += 1
        return position

    def _part_hits(self, forms: list[list[str]]) -> list[Hit[V]]:
        found = []
        for position, token_forms_ in enumerate(forms):
            best: tuple[tuple[int, int], V] | None = None
            for form in token_forms_:
                for length in range(MIN_PART_CHARS, len(form) + 1):
                    for kind, piece in ((_HEAD, form[-length:]), (_MODIFIER, form[:length])):
                        value = self._parts.get(piece)
                        if value is not None and (best is None or (kind, length) > best[0]):
                            best = ((kind, length), value)
            if best is not None:
                found.append(Hit(best[1], position, position + 1, best[0]))
        return found
