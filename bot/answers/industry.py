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
company, it does not state the industry).
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from spacy.tokens import Doc

from bot.answers.phrases import PhraseTable
from bot.answers.pipeline import bounded, full_doc
from bot.answers.tables import (
    CONTENT_DIR,
    entries,
    optional_text_field,
    text_field,
    where,
    words_field,
)

INDUSTRIES_FILE = CONTENT_DIR / "industries.yml"
INDUSTRY_KEYS = (
    "metalworking",
    "automotive_supplier",
    "mechanical_engineering",
    "other_manufacturing",
    "other",
)
_SECTION = re.compile(r"[A-U]")
_DIVISION = re.compile(r"[0-9]{2}")


@dataclass(frozen=True)
class Industry:
    key: str
    nace_section: str
    nace_division: str | None


def parse_industry(text: str, language: str) -> Industry | None:
    text = bounded(text)
    if not text:
        return None
    return industry_in(full_doc(text, language))


def industry_in(doc: Doc, skip: Container[int] = ()) -> Industry | None:
    for hit in industry_table().hits(doc):
        if not any(position in skip for position in range(hit.start, hit.end)):
            return hit.value
    return None


def industry_table(path: Path = INDUSTRIES_FILE) -> PhraseTable[Industry]:
    return _industry_table(path)


@lru_cache(maxsize=4)
def _industry_table(path: Path) -> PhraseTable[Industry]:
    rows = []
    for number, entry in enumerate(entries(path, "industries"), start=1):
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
        industry = Industry(key, section, division)
        words = words_field(at, entry, "words", required=True)
        rows.append((industry, words, words_field(at, entry, "exact_case"),
                     words_field(at, entry, "parts")))  # fmt: skip
    return PhraseTable(rows)
