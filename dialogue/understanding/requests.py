"""Requests that start an enquiry: a quote, a demo, an appointment, a callback, a
purchase or a software trial.

Contract: `request_kind(words)` returns the kind of the first request in the message's
words (`words_of`), one of `REQUEST_KINDS`, or None. The phrases are data
(`requests` in `bot/data/qualification.yml`); a request word right after a word of
`not_after` ("kein Angebot"), a request noun right after one of `not_after_noun`
("Ihr Angebot", "welche Angebote"), or a word right before one of `not_before`
("purchase manager") does not count. `load_requests()` validates the
section and raises `ValueError` naming it. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from dialogue.questionnaire_file import QUESTIONS_FILE, questionnaire_file
from dialogue.understanding.patterns import Phrase, PhraseIndex, compile_phrases
from dialogue.understanding.words import fold_word

REQUEST_KINDS = ("quote", "demo", "appointment", "callback", "purchase", "trial")
NOT_AFTER_WINDOW = 2


NOUN_KINDS = ("quote", "demo", "appointment")
"""Requests named by a noun: "Ihr Angebot" (the range) is none of them."""


@dataclass(frozen=True)
class Requests:
    kinds: dict[str, tuple[Phrase, ...]]
    not_after: frozenset[str]
    not_before: frozenset[str]
    not_after_noun: frozenset[str] = frozenset()

    def kind(self, words: Sequence[str]) -> str | None:
        """The kind the words request: what they name (a quote, a demo, an appointment)
        before how ("book a demo" is a demo), then the earliest."""
        best: tuple[bool, int, str] | None = None
        for kind, index in self._indexes.items():
            for first, word in enumerate(words):
                if best is not None and (kind not in NOUN_KINDS, first) >= best[:2]:
                    break
                if any(
                    (end := phrase.end_from(words, first)) is not None
                    and self._counts(words, first, end, kind in NOUN_KINDS)
                    for phrase in index.starting_with(word)
                ):
                    best = (kind not in NOUN_KINDS, first, kind)
                    break
        return best[2] if best else None

    @cached_property
    def _indexes(self) -> dict[str, PhraseIndex]:
        return {kind: PhraseIndex(phrases) for kind, phrases in self.kinds.items()}

    def _counts(self, words: Sequence[str], first: int, end: int, noun: bool) -> bool:
        before = set(words[max(0, first - NOT_AFTER_WINDOW) : first])
        after = set(words[end : end + 1])
        refused = self.not_after | (self.not_after_noun if noun else frozenset())
        return not (before & refused or after & self.not_before)


def _words(raw: Any, where: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise ValueError(f"{where} must be a list of words")
    return frozenset(fold_word(str(word)) for word in raw)


def parse_requests(raw: Any, where: str = "requests") -> Requests:
    if not isinstance(raw, dict) or not isinstance(raw.get("kinds"), dict):
        raise ValueError(f"{where} needs 'kinds': {', '.join(REQUEST_KINDS)}")
    kinds = {}
    for kind, phrases in raw["kinds"].items():
        if kind not in REQUEST_KINDS:
            raise ValueError(f"{where}: '{kind}' is not one of {', '.join(REQUEST_KINDS)}")
        if not isinstance(phrases, list) or not phrases:
            raise ValueError(f"{where}.kinds.{kind} must be a non-empty list of phrases")
        try:
            kinds[kind] = compile_phrases(str(p) for p in phrases)
        except ValueError as error:
            raise ValueError(f"{where}.kinds.{kind}: {error}") from error
    return Requests(
        kinds,
        _words(raw.get("not_after"), f"{where}.not_after"),
        _words(raw.get("not_before"), f"{where}.not_before"),
        _words(raw.get("not_after_noun"), f"{where}.not_after_noun"),
    )


@lru_cache(maxsize=2)
def load_requests(path: Path = QUESTIONS_FILE) -> Requests:
    try:
        return parse_requests(questionnaire_file(path).get("requests"))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def request_kind(words: Sequence[str]) -> str | None:
    return load_requests().kind(words)
