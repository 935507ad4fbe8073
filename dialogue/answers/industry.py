"""The visitor's industry: the persona's key plus the WZ 2008 / NACE Rev. 2 code.

Contract: `parse_industry(text, language)` returns `Industry(key, nace_section,
nace_division)` for the first industry word of `bot/data/content/industries.yml` in the
text, or None. Keys: metalworking, automotive_supplier, mechanical_engineering,
other_manufacturing, other. Words match on spaCy lemmas in both languages, case- and
umlaut-tolerant ("Metallbau", "metal shop", "Maschinenbauer", "automotive supplier");
German compounds match on their known parts ("Blechbearbeitungsbetrieb" ->
metalworking, C 25). A word not in the table gives None (the bot asks again or offers
"other"), never a guess. Never raises; a malformed table raises `ValueError` naming the
file and entry when first used.

`industry_in(doc, skip=...)` is the same on a made doc, skipping the token positions
given (volunteered sentences skip the company name: "Müller Metallbau GmbH" names a
company, it does not state the industry), and the generic words of `answer_only`
entries ("Hersteller", "Maschinen") unless the sentence speaks of the visitor ("wir
bauen Maschinen"). When a text names several, the persona's most specific one wins
(`INDUSTRY_KEYS` order: "Stanzteile für die Autoindustrie" is an automotive supplier).

`other_industry(text)` is the catch-all for an answer to the industry question in
words the table does not know ("Orgelbau"): the visitor's words (bounded to
`MAX_WORDS_CHARS`) with `other_manufacturing` when a part of `catch_all` says the
company makes or processes things, else `other`; None for a question, a sentence of
more than `MAX_OTHER_WORDS` words or no letters.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from spacy.tokens import Doc

from dialogue.answers.phrases import PhraseTable
from dialogue.answers.pipeline import bounded, fold, folded_words, full_doc
from dialogue.answers.tables import (
    CONTENT_DIR,
    entries,
    optional_text_field,
    text_field,
    where,
    words_field,
)
from dialogue.word_yaml import load_words

INDUSTRIES_FILE = CONTENT_DIR / "industries.yml"
INDUSTRY_KEYS = (
    "automotive_supplier",
    "mechanical_engineering",
    "metalworking",
    "other_manufacturing",
    "other",
)
"""In the order they win when a text names several."""
_SECTION = re.compile(r"[A-U]")
_DIVISION = re.compile(r"[0-9]{2}")


MAX_OTHER_WORDS = 12
MAX_WORDS_CHARS = 80


@dataclass(frozen=True)
class Industry:
    key: str
    nace_section: str | None
    nace_division: str | None
    words: str | None = None  # the visitor's own words, for an industry the table lacks
    answer_only: bool = False  # generic words: only an answer to the industry question


def parse_industry(text: str, language: str) -> Industry | None:
    text = bounded(text)
    if not text:
        return None
    return industry_in(full_doc(text, language), answer=True)


def industry_in(doc: Doc, skip: Container[int] = (), *, answer: bool = False) -> Industry | None:
    """The first industry named; in a sentence (`answer=False`) not the generic words
    that only answer the industry question ("Hersteller", "Fertigung")."""
    found = [
        hit.value
        for hit in industry_table().hits(doc)
        if not any(position in skip for position in range(hit.start, hit.end))
        and (answer or not hit.value.answer_only or _said_of_themselves(doc, hit.start))
    ]
    if not found:
        return None
    # "Stanzteile für die Autoindustrie": an automotive supplier, though it stamps metal;
    # generic words ("machining" is a "machine") only when nothing specific is named.
    best = min(found, key=lambda i: (i.answer_only, INDUSTRY_KEYS.index(i.key)))
    return replace(best, answer_only=False)


_SELF = folded_words("wir we we're were mir mia")
"""The company as the subject ("wir bauen", "we make"), not "unsere Fertigung"."""
_OTHERS = folded_words(
    "your yours ihre ihren ihrer ihrem eure euren eurer other others andere anderer "
    "unsere unser unseren unserer unserem our"
)
"""Right before a generic word, not the company's industry: "your machines", "unsere
Fertigung erweitern" (a department of theirs)."""
SELF_WINDOW = 6


def _said_of_themselves(doc: Doc, start: int) -> bool:
    """ "Wir bauen Sondermaschinen": generic words count in a sentence about the
    company ("wir", "we"), not about the visitor ("I") or others ("your machines")."""
    before = _words_before(doc, start)
    return any(w in _SELF for w in before) and not any(w in _OTHERS for w in before[-2:])


def _words_before(doc: Doc, start: int) -> list[str]:
    """Up to SELF_WINDOW words before `start` in the same sentence, punctuation and
    hyphens not counted ("we're an engineering firm building special-purpose ...")."""
    words: list[str] = []
    for token in reversed(doc[:start]):
        if token.text in _SENTENCE_ENDS or len(words) == SELF_WINDOW:
            break
        if any(ch.isalnum() for ch in token.text):
            words.append(fold(token.text))
    return words[::-1]


_SENTENCE_ENDS = frozenset(".!?;")


_NEGATIONS = folded_words("nicht nichts nix kein keine keinen no not none nothing never")


def other_industry(text: str) -> Industry | None:
    text = bounded(text)
    words = text.split()
    if "?" in text or not 1 <= len(words) <= MAX_OTHER_WORDS:
        return None
    if not any(ch.isalpha() for ch in text):
        return None
    if any(fold(w.strip(".,;:!")) in _NEGATIONS for w in words):
        return None  # "Dazu möchte ich nichts sagen", "no idea": not an industry
    folded = fold(text)
    makes = any(part in folded for part in manufacturing_parts())
    key = "other_manufacturing" if makes else "other"
    return Industry(key, "C" if makes else None, None, text[:MAX_WORDS_CHARS])


@lru_cache(maxsize=1)
def manufacturing_parts(path: Path = INDUSTRIES_FILE) -> tuple[str, ...]:
    data = load_words(path.read_text(encoding="utf-8")) or {}
    raw = (data.get("catch_all") or {}).get("manufacturing_parts") or []
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise ValueError(f"{path}: catch_all.manufacturing_parts must be a list of words")
    return tuple(fold(p.strip()) for p in raw)


def industry_table(path: Path = INDUSTRIES_FILE) -> PhraseTable[Industry]:
    return _industry_table(path)


def _industry(path: Path, number: int, entry: dict) -> Industry:
    at = where(path, "industries", number, entry, "key")
    key = text_field(at, entry, "key")
    if key not in INDUSTRY_KEYS:
        raise ValueError(f"{at}: key {key!r} is not one of {', '.join(INDUSTRY_KEYS)}")
    section = text_field(at, entry, "nace_section")
    if not _SECTION.fullmatch(section):
        raise ValueError(f"{at}: nace_section {section!r} must be one letter A-U")
    division = optional_text_field(at, entry, "nace_division")
    if division is not None and not _DIVISION.fullmatch(division):
        raise ValueError(f"{at}: nace_division {division!r} must be two digits or null")
    answer_only = entry.get("answer_only", False)
    if not isinstance(answer_only, bool):
        raise ValueError(f"{at}: answer_only must be true or false")
    return Industry(key, section, division, answer_only=answer_only)


@lru_cache(maxsize=4)
def _industry_table(path: Path) -> PhraseTable[Industry]:
    rows = []
    for number, entry in enumerate(entries(path, "industries"), start=1):
        at = where(path, "industries", number, entry, "key")
        industry = _industry(path, number, entry)
        words = words_field(at, entry, "words", required=True)
        rows.append((industry, words, words_field(at, entry, "exact_case"),
                     words_field(at, entry, "parts")))  # fmt: skip
    return PhraseTable(rows)
