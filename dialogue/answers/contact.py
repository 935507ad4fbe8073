"""Contact details: email address, phone number and the visitor's name.

All three are personal data: nothing here logs or keeps them.

- `parse_email(text, language)` finds the first valid address in a sentence ("meine
  Mail ist a.b@firma-x.de"). Valid: one "@", a local part of at most 64 characters
  (RFC 5322 atom characters and dots, no leading, trailing or double dot), a domain with
  at least one dot, letter/digit/hyphen labels and a top-level label of two or more
  letters, at most 254 characters in all. The domain is lower-cased, the local part
  kept. `freemail` is True for the private domains of
  `bot/data/content/freemail_domains.yml`. Obfuscated forms ("a at b dot de") are not
  read.
- `parse_phone(text, language, default_country="DE")` finds the first phone number and
  returns it in E.164 ("+495215550100"): "+49 (0) 521 5550100", "+49 0521 …",
  "0049 521 …", "0521 555 0100". The CRM's normaliser reads it (`crm_adapter.phone`,
  libphonenumber): a single leading 0 is a national number of `default_country`, the
  ISO code of the country the visitor gave ("0664 1234567" is "+43664…" for "AT");
  None or a country without a known numbering plan reads as Germany. Numbers with
  fewer than 6 or more than 15 digits (a national number needs at least 5 after its 0,
  so "01067" stays a postal code), of a length their country's numbers never have,
  dates and numbers without a leading "+", "00" or "0" are rejected.
- `parse_name(text, language)` is in `person_name` and re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from crm_adapter import phone
from dialogue.answers.person_name import PersonName, parse_name
from dialogue.answers.pipeline import bounded
from dialogue.answers.tables import CONTENT_DIR

__all__ = ["Email", "Phone", "PersonName", "parse_email", "parse_phone", "parse_name"]

FREEMAIL_FILE = CONTENT_DIR / "freemail_domains.yml"
MAX_EMAIL_CHARS = 254
MAX_LOCAL_CHARS = 64
MIN_PHONE_DIGITS = 6
MIN_NATIONAL_DIGITS = 5
"""A national number has at least this many digits after its 0; "01067" is a postal code."""

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"(?!-)[^\W_](?:[\w-]*[^\W_])?", re.UNICODE)
_TLD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_WORD_BREAKS = re.compile(r"[\s<>()\[\]{},;:\"]+")
"""Addresses are a character format: words are split here, not by a tokenizer, whose
rules for hyphens and dots differ between the German and the English pipeline."""
_OPENING_MARKS = "<([{\"'"
_CLOSING_MARKS = ">)]}\"'.,;:!?"
_PHONE = re.compile(r"(?<![\w+])(?:\+|00|\(?0)[0-9\s()/.\-]{4,}[0-9]")
_DATE = re.compile(r"[0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{2,4})?")


@dataclass(frozen=True)
class Email:
    address: str
    freemail: bool


@dataclass(frozen=True)
class Phone:
    number: str


def parse_email(text: str, language: str = "de") -> Email | None:
    """The first valid address in the text (any `language`: addresses are no words)."""
    text = bounded(text)
    if "@" not in text:
        return None
    for word in _WORD_BREAKS.split(text):
        if "@" in word:
            email = email_from_word(word)
            if email is not None:
                return email
    return None


def email_from_word(word: str) -> Email | None:
    """The email address a single word is (without the punctuation around it)."""
    word = word.lstrip(_OPENING_MARKS).rstrip(_CLOSING_MARKS)
    if len(word) > MAX_EMAIL_CHARS or word.count("@") != 1:
        return None
    local, domain = word.split("@")
    if len(local) > MAX_LOCAL_CHARS or not _LOCAL.fullmatch(local):
        return None
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if not _TLD.fullmatch(labels[-1]) or any(len(label) > 63 for label in labels):
        return None
    domain = ".".join(labels)
    return Email(f"{local}@{domain}", is_freemail(domain))


def is_freemail(domain: str, path: Path = FREEMAIL_FILE) -> bool:
    domains, prefixes = _freemail(path)
    return domain in domains or domain.split(".", 1)[0] in prefixes


@lru_cache(maxsize=4)
def _freemail(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML ({error})") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: needs the lists 'domains' and 'prefixes'")
    found = []
    for key in ("domains", "prefixes"):
        items = data.get(key) or []
        if not isinstance(items, list):
            raise ValueError(f"{path}: '{key}' must be a list")
        for number, item in enumerate(items, start=1):
            if not isinstance(item, str) or not item.strip() or "@" in item or " " in item:
                raise ValueError(f"{path}: {key} entry {number} ({item!r}) is not a domain")
        found.append(frozenset(item.strip().lower() for item in items))
    return found[0], found[1]


def parse_phone(
    text: str, language: str = "de", default_country: str | None = phone.DEFAULT_COUNTRY
) -> Phone | None:
    text = bounded(text)
    for match in _PHONE.finditer(text):
        candidate = match.group(0).strip()
        if _DATE.fullmatch(candidate):
            continue
        number = normalised_phone(candidate, default_country)
        if number is not None:
            return Phone(number)
    return None


def normalised_phone(raw: str, default_country: str | None = phone.DEFAULT_COUNTRY) -> str | None:
    """ "+49 (0) 521 5550100" -> "+495215550100"; None when it is no phone number. The
    CRM's normaliser (`crm_adapter.phone`), so an answer identifies a lead as typed, with
    the parser's bounds: 6 digits at least, and 5 after a national 0 ("01067" is a
    postal code). A national number is of `default_country` (any text: what is no
    country with a known numbering plan reads as Germany, `phone.phone_country`)."""
    return phone.normalised_phone(raw, phone.phone_country(default_country),
                                  min_digits=MIN_PHONE_DIGITS,
                                  min_national_digits=MIN_NATIONAL_DIGITS)  # fmt: skip
