"""Reading answers: each question's `parser` bound to the parsers in `dialogue.answers`.

`AnswerInterpreter` implements `flow.Interpreter`. Every reading carries the JSON-able
value the CRM stores (the keys the scoring reads: `employees.count`, `industry.key`,
`role.key`, `location.country`) and a short text for the summary. Small talk and
fillers ("ja gerne", "yes please", "Moment") are never an answer. An answer in words
the tables do not know is kept in those words when `catch_all` allows it: a need
as `other` with its purpose, an industry as `other`/`other_manufacturing`, a role as
`other`. Pure Python and spaCy; personal data (name, email, phone) passes through
without being logged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from dialogue.answers.company import Company, parse_company
from dialogue.answers.contact import Email, Phone, parse_email, parse_phone
from dialogue.answers.employees import Employees, parse_employees, size_band
from dialogue.answers.industry import Industry, other_industry, parse_industry
from dialogue.answers.location import location_in
from dialogue.answers.money import Amount, parse_amount
from dialogue.answers.person_name import parse_name
from dialogue.answers.pipeline import bounded, fold, full_doc
from dialogue.answers.postal import PostalCode
from dialogue.answers.role import Role, parse_role
from dialogue.answers.timeline import Timeline, parse_timeline
from dialogue.answers.unknown import says_unknown
from dialogue.answers.volunteered import extract_all
from dialogue.dialect import standard_german
from dialogue.qualification.questions import QUESTIONS_FILE, Question, questionnaire_file
from dialogue.qualification.state import Reading
from dialogue.understanding.small_talk import is_non_answer
from dialogue.understanding.words import words_of

Reader = Callable[[str, str, date], "Reading | None"]
T = TypeVar("T")


@lru_cache(maxsize=1)
def need_words(path: Path = QUESTIONS_FILE) -> dict[str, tuple[str, ...]]:
    raw = questionnaire_file(path).get("needs") or {}
    return {str(line): tuple(str(w).lower() for w in words) for line, words in raw.items()}


MAX_PURPOSE_CHARS = 200
_CONTACT_DETAILS = re.compile(r"\S+@\S+|\+?\d[\d /().-]{5,}\d")


def purpose_of(text: str) -> str:
    """What the visitor wants it for, in their words: bounded, contact details removed
    (the need is stored without consent, so it must not carry personal data)."""
    return " ".join(_CONTACT_DETAILS.sub("…", text).split())[:MAX_PURPOSE_CHARS]


MIN_HEAD_CHARS = 6
"""A need word also names the end of a compound ("Servopresse") from this length on."""


def read_need(text: str, language: str, today: date) -> Reading | None:
    """The product line the text names first ("einen Wartungsvertrag für unsere Pressen"
    is service: what is wanted comes before what it is for)."""
    named = named_lines(text)
    if not named:
        return None
    line = min(named, key=lambda name: named[name])
    return Reading("need", {"product_line": line, "purpose": purpose_of(text)}, line)


def named_lines(text: str) -> dict[str, int]:
    """Each product line the text names (`needs:` of qualification.yml), with the word
    position where it is first named."""
    said = standard_german(text)  # "Wartigsvertrag" is a "Wartungsvertrag"
    lowered = fold(said)
    words = [fold(w) for w in re.split(r"[\s,;:.!?()/]+", said) if w]
    named: dict[str, int] = {}
    for line, starts in need_words().items():
        positions = [_position(fold(start), lowered, words) for start in starts]
        found = [position for position in positions if position is not None]
        if found:
            named[line] = min(found)
    return named


def _position(start: str, lowered: str, words: list[str]) -> int | None:
    """Where a need word stands: one word begins a word, or ends one when it is long
    (German compounds: "Förderanlage", "Servopresse"); more words are a phrase."""
    if " " in start:
        at = lowered.find(start)
        return None if at < 0 else len(lowered[:at].split())
    for index, word in enumerate(words):
        if word.startswith(start) or (len(start) >= MIN_HEAD_CHARS and word.endswith(start)):
            return index
    return None


MAX_SHOWN_CHARS = 60
_NEGATIONS = frozenset(
    ("nicht", "nichts", "nix", "kein", "keine", "keinen", "no", "not", "none", "nothing")
)


def other_need(text: str, language: str, today: date) -> Reading | None:
    """A need in the visitor's words that names no product line ("eine Anlage zum
    Entgraten"): kept with the product line `other`."""
    if "?" in text or sum(ch.isalpha() for ch in text) < 3:
        return None
    doc = full_doc(bounded(text), language)
    if says_unknown(doc) or any(token.lower_ in _NEGATIONS for token in doc):
        return None
    purpose = purpose_of(text)
    return Reading("need", {"product_line": "other", "purpose": purpose}, purpose[:MAX_SHOWN_CHARS])


def employees_reading(found: Employees) -> Reading:
    value = {"count": found.count, "low": found.low, "high": found.high,
             "band": size_band(found.count)}  # fmt: skip
    shown = str(found.count) if found.low == found.high else f"{found.low}-{found.high}"
    return Reading("employees", value, shown)


def _company(text: str, language: str) -> Company | None:
    """A company name, not a product line said where the name was asked ("Pressen",
    "the software": the visitor names what they want, not who they are)."""
    found = parse_company(text, language)
    if found is None or found.legal_form:
        return found
    words = [w for w in re.split(r"[\s,;:.!?()/]+", fold(found.name)) if w]
    product_words = [w for w in words if named_lines(w)]
    return None if product_words and len(product_words) == len(words) else found


def company_reading(found: Company) -> Reading:
    return Reading("company", {"name": found.name, "legal_form": found.legal_form}, found.name)


def industry_reading(found: Industry) -> Reading:
    value = {"key": found.key, "nace_section": found.nace_section,
             "nace_division": found.nace_division}  # fmt: skip
    if found.words:
        value["words"] = found.words
    return Reading("industry", value, found.words or found.key)


def role_reading(found: Role) -> Reading:
    value = {"key": found.key, **({"words": found.words} if found.words else {})}
    return Reading("role", value, found.words or found.key)


def location_reading(
    country: str | None, postal: PostalCode | None, town: str | None = None
) -> Reading | None:
    value: dict[str, Any]
    if postal is not None:
        value = {"country": postal.country, "postal_code": postal.code}
    elif country is not None:
        value = {"country": country, "postal_code": None}
    else:
        return None
    if town:
        value["town"] = town[:MAX_TOWN_CHARS]  # the company's town, as written
    shown = " ".join(part for part in (value["country"], value["postal_code"]) if part)
    return Reading("location", value, shown)


def timeline_reading(found: Timeline) -> Reading:
    if found.months is None:
        return Reading("timeline", {"months": None}, "?", unknown=True)
    return Reading("timeline", {"months": found.months}, f"{found.months} months")


def budget_reading(found: Amount) -> Reading:
    if not found.known:
        return Reading("budget", {"value": None}, "?", unknown=True)
    shown = f"{found.value:,} {found.currency}".replace(",", ".")
    return Reading("budget", {"value": found.value, "currency": found.currency}, shown)


def email_reading(found: Email) -> Reading:
    return Reading("email", {"address": found.address, "freemail": found.freemail}, found.address)


def phone_reading(found: Phone) -> Reading:
    return Reading("phone", {"number": found.number}, found.number)


def _then(found: T | None, convert: Callable[[T], Reading]) -> Reading | None:
    return None if found is None else convert(found)


MAX_TOWN_CHARS = 80


def read_location(text: str, language: str, today: date) -> Reading | None:
    found = location_in(full_doc(bounded(text), language), answer=True)
    if found is None:
        return None
    return location_reading(found.country, found.postal_code, found.town)


READERS: dict[str, Reader] = {
    "need": read_need,
    "company": lambda text, lang, today: _then(_company(text, lang), company_reading),
    "employees": lambda text, lang, today: _then(parse_employees(text, lang), employees_reading),
    "industry": lambda text, lang, today: _then(parse_industry(text, lang), industry_reading),
    "role": lambda text, lang, today: _then(parse_role(text, lang), role_reading),
    "location": read_location,
    "timeline": lambda text, lang, today: _then(
        parse_timeline(text, lang, today), timeline_reading
    ),
    "budget": lambda text, lang, today: _then(parse_amount(text, lang), budget_reading),
    "name": lambda text, lang, today: _then(
        parse_name(text, lang), lambda found: Reading("name", {"full": found.full}, found.full)
    ),
    "email": lambda text, lang, today: _then(parse_email(text, lang), email_reading),
    "phone": lambda text, lang, today: _then(parse_phone(text, lang), phone_reading),
}
# Answers in words the tables do not know, for the question being asked only.
CATCH_ALL: dict[str, Reader] = {
    "need": other_need,
    "industry": lambda text, lang, today: _then(other_industry(text), industry_reading),
}
# What `extract_all` reports, turned into the reading of the question it answers.
CONVERTERS: dict[str, Callable[[Any], Reading]] = {
    "employees": employees_reading,
    "industry": industry_reading,
    "company": company_reading,
    "role": role_reading,
    "timeline": timeline_reading,
    "budget": budget_reading,
    "email": email_reading,
    "phone": phone_reading,
}


class AnswerInterpreter:
    def read(
        self, question: Question, text: str, language: str, today: date, *, catch_all: bool = True,
        country: str | None = None,
    ) -> Reading | None:  # fmt: skip
        """`country`: the one the visitor gave; a national phone number is read in it."""
        if is_non_answer(words_of(text)):
            return None
        if question.parser == "phone":
            return _then(parse_phone(text, language, default_country=country), phone_reading)
        reading = READERS[question.parser](text, language, today)
        if reading is None and catch_all and question.parser in CATCH_ALL:
            reading = CATCH_ALL[question.parser](text, language, today)
        if not catch_all and reading is not None and (reading.value or {}).get("key") == "other":
            return None  # "other" is a catch-all: only as the answer to the question
        return reading

    def volunteered(
        self, text: str, language: str, today: date, country: str | None = None
    ) -> list[Reading]:
        found: dict[str, Any] = extract_all(text, language, today, country=country)
        readings = [convert(found[key]) for key, convert in CONVERTERS.items() if key in found]
        location = location_reading(found.get("country"), found.get("postal_code"),
                                    found.get("town"))  # fmt: skip
        return readings if location is None else [*readings, location]
