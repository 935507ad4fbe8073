"""Everything one message volunteers, for the qualification not to ask it again.

Contract: `extract_all(text, language, today=None)` returns a dict with only the
attributes the text clearly states, keyed `employees` (Employees), `industry`
(Industry), `company` (Company), `role` (Role), `country` (str), `postal_code`
(PostalCode), `timeline` (Timeline), `budget` (Amount), `email` (Email), `phone`
(Phone). It is conservative, as a wrong value is worse than a question:
- a number counts as employees only before a word for people ("60 Mitarbeitern",
  "60-person"), as budget only with a currency or after "Budget", as a postal code only
  with a country prefix, after "PLZ"/"postal code"/"ZIP", or before a known city; a bare
  number is nothing;
- a company needs a legal form ("Müller Metallbau GmbH"); words inside its name do not
  state the industry;
- a role needs "ich bin", "als", "I'm", "as" before it; "other" is never volunteered;
- a named city of the city table gives its country and representative postal code
  ("in Bielefeld" -> DE, DE 33602); a country name needs "in", "aus", "from" before it;
- questions ("Liefern Sie in die Schweiz?") volunteer no place and no timeline;
- "unknown" is only volunteered for budget and timeline when the topic itself is
  negated ("noch kein Budget", "no timeline yet"), never for a bare "weiß nicht";
- a phone number needs "+"/"00" or a word such as "Tel"/"phone" in the text.
One spaCy pass per call. Never raises; the text is personal data and is not logged.
"""

from __future__ import annotations

import re
from datetime import date

from spacy.tokens import Doc

from bot.answers.company import company_in
from bot.answers.contact import Phone, parse_email, parse_phone
from bot.answers.country import country_table
from bot.answers.employees import employees_in
from bot.answers.industry import industry_in
from bot.answers.money import amount_in
from bot.answers.pipeline import bounded, fold, folded_words, full_doc
from bot.answers.postal import (
    PostalCode,
    bare_postal_code,
    city_table,
    find_postal_code,
    prefixed_postal_code,
)
from bot.answers.role import role_in
from bot.answers.timeline import timeline_in

_PLACE_CUES = folded_words("in im aus from based located sitz sitzen nahe near bei at")
_ARTICLES = folded_words("der die das dem den the")
_POSTAL_KEYWORD = re.compile(
    r"(?:PLZ|Postleitzahl|postal ?code|post ?code|zip(?: ?code)?)\W*", re.I
)
_PHONE_WORDS = folded_words(
    "Tel Tel. Telefon Telefonnummer Festnetz Mobil Mobilnummer Handy Handynummer Nummer "
    "Rufnummer erreichbar anrufen Rückruf phone telephone mobile cell number call"
)
_INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00)[1-9]")


def extract_all(text: str, language: str, today: date | None = None) -> dict[str, object]:
    text = bounded(text)
    if not text:
        return {}
    doc = full_doc(text, language)
    found: dict[str, object] = {}
    company = company_in(doc)
    skip: set[int] = set()
    if company is not None:
        found["company"] = company
        skip = _positions_of(doc, company.name)
    found["employees"] = employees_in(doc)
    found["industry"] = industry_in(doc, skip)
    found["role"] = role_in(doc)
    found["budget"] = amount_in(doc)
    found["email"] = parse_email(text, language)
    found["phone"] = _phone(doc)
    if "?" not in text:
        found["timeline"] = timeline_in(doc, today)
        found.update(_place(doc))
    return {key: value for key, value in found.items() if value is not None}


def _positions_of(doc: Doc, name: str) -> set[int]:
    start = doc.text.find(name)
    if start < 0:
        return set()
    end = start + len(name)
    return {token.i for token in doc if start <= token.idx < end}


def _phone(doc: Doc) -> Phone | None:
    marked = _INTERNATIONAL.search(doc.text) or any(fold(t.text) in _PHONE_WORDS for t in doc)
    return parse_phone(doc.text, doc.lang_) if marked else None


def _place(doc: Doc) -> dict[str, object]:
    """Country and postal code from a prefixed or marked code, a city, a country name."""
    postal = prefixed_postal_code(doc.text) or _after_keyword(doc.text)
    city_hit = next(iter(city_table().hits(doc)), None)
    if postal is None and city_hit is not None:
        city = city_hit.value
        before = doc[max(city_hit.start - 1, 0) : city_hit.start].text
        postal = find_postal_code(before, city.country, hinted=True) or city.postal_code
    country = _named_country(doc) or (postal.country if postal else None)
    return {"postal_code": postal, "country": country}


def _after_keyword(text: str) -> PostalCode | None:
    match = _POSTAL_KEYWORD.search(text)
    if match is None:
        return None
    following = text[match.end() : match.end() + 12]
    code = prefixed_postal_code(following) or bare_postal_code(following)
    # Only a code right after the keyword: "PLZ 33602", not "PLZ? Wir sind 60 ...".
    return code if code is not None and following.startswith(code.code[:2]) else None


def _named_country(doc: Doc) -> str | None:
    for hit in country_table().hits(doc):
        position = hit.start - 1
        if position >= 0 and fold(doc[position].text) in _ARTICLES:
            position -= 1
        if position >= 0 and fold(doc[position].text) in _PLACE_CUES:
            return hit.value
    return None
