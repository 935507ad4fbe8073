"""The visitor's role in their company.

Contract: `parse_role(text, language)` returns `Role(key)`:
- a key of `bot/data/content/roles.yml` for the first role word in the text: owner_md
  ("Inhaber", "Geschäftsführerin", "GF", "CEO", "managing director"),
  head_of_production ("Produktionsleiter", "plant manager", "COO"), purchasing_lead
  ("Einkaufsleiter", "Leiter Einkauf", "procurement manager"), engineer ("Ingenieurin",
  "Konstrukteur"), team_lead ("Meister", "Schichtleiter", "supervisor"), student
  ("Werkstudent"), job_seeker ("auf Jobsuche", "looking for a job");
- `Role("other")` for any other short answer that reads like a job title (one to five
  words, letters only, not a sentence, refusal or "don't know": "Vertriebsleiter",
  "Marketing");
- None otherwise. Never raises.

`role_in(doc)` is the conservative variant for volunteered sentences: only a role word
right after "ich bin", "als", "I'm", "as" (articles and a few adjectives may come
between) counts, and never "other": "Ich bin Geschäftsführer der …" is a role, "Ich
möchte Ihren Geschäftsführer sprechen" is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from spacy.lang.de.stop_words import STOP_WORDS as DE_STOP_WORDS
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS
from spacy.tokens import Doc

from dialogue.answers.phrases import PhraseTable
from dialogue.answers.pipeline import bounded, fold, folded_words, full_doc
from dialogue.answers.tables import CONTENT_DIR, entries, text_field, where, words_field
from dialogue.answers.unknown import says_unknown

ROLES_FILE = CONTENT_DIR / "roles.yml"
ROLE_KEYS = (
    "owner_md",
    "head_of_production",
    "purchasing_lead",
    "engineer",
    "team_lead",
    "student",
    "job_seeker",
    "other",
)
MAX_OTHER_WORDS = 5

_CUES = folded_words("bin am 'm i'm im als as arbeite work")
_BETWEEN = folded_words(
    "der die das den dem ein eine einer the a an im in hier here auch also selbst zugleich "
    "unser unsere our stellvertretender stellvertretende deputy technischer technische "
    "kaufmännischer kaufmännische senior junior leitender leitende zuständige zuständiger "
    "derzeit currently momentan gerade noch still"
)
_LEAD_INS = tuple(
    tuple(fold(word) for word in phrase.split())
    for phrase in (
        "ich bin hier", "ich bin in der", "ich bin im", "ich bin der", "ich bin die", "ich bin",
        "ich arbeite als", "ich arbeite im", "ich arbeite in der", "arbeite als", "meine rolle ist",
        "meine position ist", "meine funktion ist", "position", "rolle", "funktion", "als",
        "i am the", "i am a", "i am an", "i am", "i 'm the", "i 'm a", "i 'm an", "i 'm",
        "i'm the", "i'm a", "i'm an", "i'm", "i work as a", "i work as an", "i work as",
        "my role is", "my title is", "my position is", "role", "title", "as", "der", "die",
        "ein", "eine", "the", "a", "an", ":",
    )
)  # fmt: skip
_STOP_WORDS = frozenset(DE_STOP_WORDS | EN_STOP_WORDS)
_NOT_A_ROLE = folded_words(
    "keine angabe privat private egal nichts nothing hallo hello hi danke thanks ja nein yes "
    "no ok okay test anonym anonymous nicht nich net ned nöd kein keine not never"
)


MAX_WORDS_CHARS = 80


@dataclass(frozen=True)
class Role:
    key: str
    words: str | None = None  # the visitor's own words, for a role the table lacks


def parse_role(text: str, language: str) -> Role | None:
    text = bounded(text)
    if not text:
        return None
    doc = full_doc(text, language)
    hits = role_table().hits(doc)
    if hits:
        return Role(hits[0].value)
    return Role("other", text[:MAX_WORDS_CHARS]) if _reads_like_a_title(doc) else None


def role_in(doc: Doc) -> Role | None:
    for hit in role_table().hits(doc):
        position = hit.start - 1
        while position >= 0 and fold(doc[position].text) in _BETWEEN and hit.start - position <= 4:
            position -= 1
        if position >= 0 and fold(doc[position].text) in _CUES:
            return Role(hit.value)
    return None


def _reads_like_a_title(doc: Doc) -> bool:
    if "?" in doc.text or says_unknown(doc):
        return False
    folded = [fold(token.text) for token in doc]
    start = 0
    while True:
        lead = next(
            (p for p in _LEAD_INS if tuple(folded[start : start + len(p)]) == p), None
        )  # fmt: skip
        if lead is None:
            break
        start += len(lead)
    words = [token for token in doc[start:] if not token.is_punct or token.text in "/&"]
    if not 1 <= len(words) <= MAX_OTHER_WORDS:
        return False
    if any(not (token.is_alpha or token.text in "/&-") for token in words):
        return False
    if any(fold(token.text) in _NOT_A_ROLE for token in words):
        return False
    return not all(token.lower_ in _STOP_WORDS and not _acronym(token.text) for token in words)


def _acronym(word: str) -> bool:
    """ "IT", "QM", "HR": a department, though "it" is an English stop word."""
    return 2 <= len(word) <= 4 and word.isupper() and word.isalpha()


def role_table(path: Path = ROLES_FILE) -> PhraseTable[str]:
    return _role_table(path)


@lru_cache(maxsize=4)
def _role_table(path: Path) -> PhraseTable[str]:
    rows = []
    for number, entry in enumerate(entries(path, "roles"), start=1):
        at = where(path, "roles", number, entry, "key")
        key = text_field(at, entry, "key")
        if key not in ROLE_KEYS or key == "other":
            raise ValueError(f"{at}: key {key!r} is not one of {', '.join(ROLE_KEYS[:-1])}")
        words = words_field(at, entry, "words", required=True)
        rows.append((key, words, words_field(at, entry, "exact_case"),
                     words_field(at, entry, "parts")))  # fmt: skip
    return PhraseTable(rows)
