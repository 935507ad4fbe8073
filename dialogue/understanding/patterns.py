"""Phrases that a company's data files write for the conversation rules, and matching
them against a message's words (`dialogue.understanding.words`).

A phrase is words separated by spaces, written in the data files as a person would
write them ("rufen ... mich ... an", "angebot", "call me back"):
- a plain word matches the same folded word, or the word with one typo (`similar`);
- `word*` matches any word that begins with it ("bestell*": "bestellen", "bestelle");
- `*word` matches any word that ends with it, the head of a German compound
  ("*presse": "Servopresse"); a beginning needs three letters or more, an end four;
- `...` between two words lets up to `MAX_GAP` other words come between them; without
  it the words must follow each other.
Pure; a malformed phrase raises `ValueError` naming it when it is compiled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dialogue.dialect import standard_word
from dialogue.understanding.words import fold_word, similar

GAP = "..."
MAX_GAP = 3
MIN_PREFIX_CHARS = 3
MIN_SUFFIX_CHARS = 4


@dataclass(frozen=True)
class Word:
    text: str
    kind: str = "word"  # word | prefix | suffix
    typos_from: int = 0  # a typo is tolerated only in words of at least this length

    def matches(self, word: str) -> bool:
        if self.kind == "prefix":
            return word.startswith(self.text)
        if self.kind == "suffix":
            return word.endswith(self.text) and len(word) > len(self.text)
        if len(self.text) < self.typos_from:
            return word == self.text
        return similar(word, self.text)


@dataclass(frozen=True)
class Phrase:
    source: str
    words: tuple[Word, ...]
    gaps: tuple[int, ...]  # words allowed before each word after the first

    def find(self, words: Sequence[str], start: int = 0) -> tuple[int, int] | None:
        """(first, end) word positions of the first match at or after `start`, or None."""
        for first in range(start, len(words)):
            if self.words[0].matches(words[first]):
                end = self._rest(words, first + 1, 1)
                if end is not None:
                    return first, end
        return None

    def end_from(self, words: Sequence[str], first: int) -> int | None:
        """Where the phrase ends when it begins at `first`, whose word matches its first."""
        return self._rest(words, first + 1, 1)

    def _rest(self, words: Sequence[str], position: int, index: int) -> int | None:
        if index == len(self.words):
            return position
        for skip in range(self.gaps[index - 1] + 1):
            at = position + skip
            if at < len(words) and self.words[index].matches(words[at]):
                end = self._rest(words, at + 1, index + 1)
                if end is not None:
                    return end
        return None


class PhraseIndex:
    """Phrases looked up by the word they begin with: matching a message tries only the
    phrases that can begin at each of its words (remembered per word), not all."""

    MAX_REMEMBERED = 50_000

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self.phrases = tuple(phrases)
        self._starting: dict[str, tuple[Phrase, ...]] = {}

    def starting_with(self, word: str) -> tuple[Phrase, ...]:
        found = self._starting.get(word)
        if found is None:
            found = tuple(p for p in self.phrases if p.words[0].matches(word))
            if len(self._starting) < self.MAX_REMEMBERED:
                self._starting[word] = found
        return found


def _word(raw: str, phrase: str, typos_from: int) -> Word:
    if raw.endswith("*") and not raw.startswith("*"):
        kind, text = "prefix", raw[:-1]
    elif raw.startswith("*") and not raw.endswith("*"):
        kind, text = "suffix", raw[1:]
    else:
        kind, text = "word", raw
    folded = fold_word(text)
    if not folded or not folded.replace("-", "").isalnum() or "*" in text:
        raise ValueError(f"phrase {phrase!r}: {raw!r} is not a word")
    least = {"prefix": MIN_PREFIX_CHARS, "suffix": MIN_SUFFIX_CHARS}.get(kind, 1)
    if len(folded) < least:
        raise ValueError(f"phrase {phrase!r}: {raw!r} needs {least} letters or more")
    return Word(folded, kind, typos_from)


def compile_phrase(phrase: str, typos_from: int = 0) -> Phrase:
    """A phrase as written in a data file (see the module docstring); `typos_from`
    raises the length from which a word tolerates a typo (short everyday words of
    small talk would otherwise match other words: "große" is one letter from "grüße")."""
    if not isinstance(phrase, str):
        raise ValueError(f"phrase {phrase!r} is not a text")
    words: list[Word] = []
    gaps: list[int] = []
    pending_gap = 0
    for raw in phrase.replace("…", f" {GAP} ").split():
        if raw == GAP:
            if not words or pending_gap:
                raise ValueError(f"phrase {phrase!r}: '...' must stand between two words")
            pending_gap = MAX_GAP
            continue
        for part in raw.replace("-", " ").split():
            standard = standard_word(part, german=False) if "*" not in part else None
            for piece in standard.split() if standard else [part]:
                if words:
                    gaps.append(pending_gap)
                words.append(_word(piece, phrase, typos_from))
                pending_gap = 0
    if not words or pending_gap:
        raise ValueError(f"phrase {phrase!r} is empty or ends with '...'")
    return Phrase(phrase, tuple(words), tuple(gaps))


def compile_phrases(phrases: Iterable[str], typos_from: int = 0) -> tuple[Phrase, ...]:
    return tuple(compile_phrase(p, typos_from) for p in phrases)


def first_match(phrases: Iterable[Phrase], words: Sequence[str]) -> tuple[Phrase, int, int] | None:
    """The earliest match of any phrase (the longest one where two start together)."""
    best: tuple[Phrase, int, int] | None = None
    for phrase in phrases:
        found = phrase.find(words)
        if found is None:
            continue
        first, end = found
        if best is None or (first, -(end - first)) < (best[1], -(best[2] - best[1])):
            best = (phrase, first, end)
    return best
