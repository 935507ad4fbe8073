"""Reading answers: each question's `parser` bound to the parsers in `bot.answers`.

`AnswerInterpreter` implements `flow.Interpreter`. Every reading carries the JSON-able
value the CRM stores (the keys the scoring reads: `employees.count`, `industry.key`,
`role.key`, `location.country`) and a short text for the summary. Pure Python and
spaCy; personal data (name, email, phone) passes through without being logged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from bot.answers.company import Company, parse_company
from bot.answers.contact import Email, Phone, parse_email, parse_phone
from bot.answers.country import parse_country
from bot.answers.employees import Employees, parse_employees, size_band
from bot.answers.industry import Industry, parse_industry
from bot.answers.money import Amount, parse_amount
from bot.answers.person_name import parse_name
from bot.answers.postal import PostalCode, parse_city, parse_postal_code
from bot.answers.role import Role, parse_role
from bot.answers.timeline import Timeline, parse_timeline
from bot.answers.volunteered import extract_all
from bot.qualification.flow import Reading
from bot.qualification.questions import QUESTIONS_FILE, Question, questionnaire_file

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


def read_need(text: str, language: str, today: date) -> Reading | None:
    lowered = text.lower()
    words = lowered.replace(",", " ").split()
    for line, starts in need_words().items():
        for start in starts:
            # One word: a word that begins with it (German compounds); more: the phrase.
            if (" " in start and start in lowered) or any(w.startswith(start) for w in words):
                return Reading("need", {"product_line": line, "purpose": purpose_of(text)}, line)
    return None


def employees_reading(found: Employees) -> Reading:
    value = {"count": found.count, "low": found.low, "high": found.high,
             "band": size_band(found.count)}  # fmt: skip
    shown = str(found.count) if found.low == found.high else f"{found.low}-{found.high}"
    return Reading("employees", value, shown)


def company_reading(found: Company) -> Reading:
    return Reading("company", {"name": found.name, "legal_form": found.legal_form}, found.name)


def industry_reading(found: Industry) -> Reading:
    value = {"key": found.key, "nace_section": found.nace_section,
             "nace_division": found.nace_division}  # fmt: skip
    return Reading("industry", value, found.key)


def role_reading(found: Role) -> Reading:
    return Reading("role", {"key": found.key}, found.key)


def location_reading(country: str | None, postal: PostalCode | None) -> Reading | None:
    if postal is not None:
        value = {"country": postal.country, "postal_code": postal.code}
    elif country is not None:
        value = {"country": country, "postal_code": None}
    else:
        return None
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


def read_location(text: str, language: str, today: date) -> Reading | None:
    country = parse_country(text, language)
    postal = parse_postal_code(text, language, country)
    if postal is None:
        city = parse_city(text, language)
        postal = city.postal_code if city is not None else None
    return location_reading(country, postal)


READERS: dict[str, Reader] = {
    "need": read_need,
    "company": lambda text, lang, today: _then(parse_company(text, lang), company_reading),
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
    def read(self, question: Question, text: str, language: str, today: date) -> Reading | None:
        return READERS[question.parser](text, language, today)

    def volunteered(self, text: str, language: str, today: date) -> list[Reading]:
        found: dict[str, Any] = extract_all(text, language, today)
        readings = [convert(found[key]) for key, convert in CONVERTERS.items() if key in found]
        location = location_reading(found.get("country"), found.get("postal_code"))
        return readings if location is None else [*readings, location]
