"""Everything one message volunteers, for the qualification not to ask it again.

Contract: `extract_all(text, language, today=None, country=None)` returns a dict with
only the attributes the text clearly states, keyed `employees` (Employees), `industry`
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
- a place is read by `dialogue.answers.location.location_in` (a town after "in", "aus",
  "from" or beside a postal code, never after "bei Ihnen"; a named city of the city
  table gives its country and representative postal code: "in Bielefeld" -> DE 33602);
- question sentences ("Liefern Sie in die Schweiz?") volunteer no place and no
  timeline, unless they speak of the visitor's own ("für unser Lager in Linz?"); the
  statements around them do;
- "unknown" is only volunteered for budget and timeline when the topic itself is
  negated ("noch kein Budget", "no timeline yet"), never for a bare "weiß nicht";
- a phone number needs "+"/"00" or a word such as "Tel"/"phone" in the text; a national
  one ("Tel. 0664 1234567") is of the country of a place the message names ("in Linz"),
  else of `country` (the ISO code the visitor gave before), else of Germany.
One spaCy pass per call. Never raises; the text is personal data and is not logged.
"""

from __future__ import annotations

import re
from datetime import date

from spacy.tokens import Doc

from dialogue.answers.company import company_in
from dialogue.answers.contact import Phone, parse_email, parse_phone
from dialogue.answers.employees import employees_in
from dialogue.answers.industry import industry_in
from dialogue.answers.location import location_in
from dialogue.answers.money import amount_in
from dialogue.answers.pipeline import bounded, fold, folded_words, full_doc
from dialogue.answers.role import role_in
from dialogue.answers.timeline import timeline_in

_PHONE_WORDS = folded_words(
    "Tel Tel. Telefon Telefonnummer Festnetz Mobil Mobilnummer Handy Handynummer Nummer "
    "Rufnummer erreichbar anrufen Rückruf phone telephone mobile cell number call"
)
_INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00)[1-9]")


def extract_all(
    text: str, language: str, today: date | None = None, country: str | None = None
) -> dict[str, object]:
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
    statements = _statements(doc)
    place = None
    if statements is not None:
        found["timeline"] = timeline_in(statements, today)
        place = location_in(statements)
        if place is not None:
            found.update(postal_code=place.postal_code, country=place.country, town=place.town)
    found["phone"] = _phone(doc, (place.country if place else None) or country)
    return {key: value for key, value in found.items() if value is not None}


def _statements(doc: Doc) -> Doc | None:
    """The doc without its question sentences ("Liefern Sie in die Schweiz?" names no
    place of the visitor's), or None when it holds nothing else."""
    if "?" not in doc.text:
        return doc
    sentences = re.split(r"(?<=[.!?])\s+", doc.text)
    text = " ".join(s for s in sentences if not s.rstrip().endswith("?") or _ours(s)).strip()
    return full_doc(text, doc.lang_) if text else None


_OURS = folded_words("wir uns unser unsere unserem unseren unserer we us our ours")


def _ours(sentence: str) -> bool:
    """A question that speaks of the visitor's own place ("... for our warehouse in
    Amsterdam, can you send an offer?"), unlike "Liefern Sie in die Schweiz?"."""
    return any(fold(word) in _OURS for word in re.findall(r"\w+", sentence))


def _positions_of(doc: Doc, name: str) -> set[int]:
    start = doc.text.find(name)
    if start < 0:
        return set()
    end = start + len(name)
    return {token.i for token in doc if start <= token.idx < end}


def _phone(doc: Doc, country: str | None) -> Phone | None:
    marked = _INTERNATIONAL.search(doc.text) or any(fold(t.text) in _PHONE_WORDS for t in doc)
    return parse_phone(doc.text, doc.lang_, country) if marked else None
