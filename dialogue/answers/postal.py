"""Postal codes, and the big cities a visitor may name instead.

Contract: `parse_postal_code(text, language, country_hint=None)` returns the first
postal code in the text as `PostalCode(country, code)` (ISO 3166 alpha-2, the code in
its country's usual spelling, see `POSTAL_FORMATS`), or None. Never raises.
- A country prefix decides: "D-33602", "DE 33602", "A-1010", "AT 1010", "CH-8001",
  "NL-1234 AB", "S-123 45", "FIN-00100".
- Otherwise `country_hint` (an ISO code; "UK" is read as GB) decides which format to look
  for; then a city of the city table named in the text ("1010 Wien"). A city named
  without a code gives the city's representative code ("Bielefeld" -> DE 33602) unless
  the hint names another country.
- Without any of these: Dutch "1234 AB" and British "SW1A 1AA" (upper case) are
  recognised, and a bare five-digit number is German. Four-digit codes (AT, CH, BE, DK,
  NO, LU) and Swedish "123 45" need a prefix, hint or city, as do US ZIP codes.
Postal codes are character formats, so they are found with regular expressions;
spaCy only finds the city names.

`parse_city(text)` finds a city of `bot/data/content/cities.yml` and returns it with
its country and representative postal code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dialogue.answers.phrases import PhraseTable
from dialogue.answers.pipeline import bounded, token_doc
from dialogue.answers.tables import CONTENT_DIR, entries, text_field, where, words_field

CITIES_FILE = CONTENT_DIR / "cities.yml"

_FIND: dict[str, str] = {
    "DE": r"\d{5}", "AT": r"\d{4}", "CH": r"\d{4}", "LI": r"\d{4}", "BE": r"\d{4}",
    "LU": r"\d{4}", "DK": r"\d{4}", "NO": r"\d{4}", "NL": r"\d{4} ?[A-Z]{2}",
    "SE": r"\d{3} ?\d{2}", "FI": r"\d{5}", "IS": r"\d{3}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "US": r"\d{5}(?:-\d{4})?", "FR": r"\d{5}",
    "IT": r"\d{5}", "ES": r"\d{5}", "PL": r"\d{2}-\d{3}", "CZ": r"\d{3} ?\d{2}",
    "SK": r"\d{3} ?\d{2}", "PT": r"\d{4}-\d{3}", "HU": r"\d{4}", "SI": r"\d{4}",
}  # fmt: skip
POSTAL_FORMATS: dict[str, re.Pattern[str]] = {
    country: re.compile(pattern)
    for country, pattern in {
        "DE": r"(?!00)\d{5}", "AT": r"[1-9]\d{3}", "CH": r"[1-9]\d{3}", "LI": r"94[89]\d",
        "BE": r"[1-9]\d{3}", "LU": r"\d{4}", "DK": r"\d{4}", "NO": r"\d{4}",
        "NL": r"[1-9]\d{3} [A-Z]{2}", "SE": r"[1-9]\d{2} \d{2}", "FI": r"\d{5}",
        "IS": r"[1-9]\d{2}", "GB": r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}",
        "US": r"\d{5}(?:-\d{4})?", "FR": r"\d{5}", "IT": r"\d{5}", "ES": r"\d{5}",
        "PL": r"\d{2}-\d{3}", "CZ": r"[1-7]\d{2} \d{2}", "SK": r"[089]\d{2} \d{2}",
        "PT": r"[1-9]\d{3}-\d{3}", "HU": r"[1-9]\d{3}", "SI": r"[1-9]\d{3}",
    }.items()
}  # fmt: skip
"""The normalised spelling of each country's postal codes."""
_PREFIXES: dict[str, tuple[str, ...]] = {
    "DE": ("D", "DE"), "AT": ("A", "AT"), "CH": ("CH",), "LI": ("FL", "LI"),
    "BE": ("B", "BE"), "LU": ("L", "LU"), "DK": ("DK",), "NO": ("N", "NO"),
    "NL": ("NL",), "SE": ("S", "SE"), "FI": ("FIN", "SF", "FI"), "IS": ("IS",),
    "FR": ("F", "FR"), "IT": ("I", "IT"), "ES": ("E", "ES"), "PL": ("PL",), "CZ": ("CZ",),
    "SK": ("SK",), "PT": ("P", "PT"), "HU": ("H", "HU"), "SI": ("SLO", "SI"),
    "US": ("US", "USA"),
}  # fmt: skip
_HINT_ALIASES = {"UK": "GB"}
_SPACED = {"NL": 4, "SE": 3, "CZ": 3, "SK": 3}
"""Countries whose codes have a space after this many characters."""


@dataclass(frozen=True)
class PostalCode:
    country: str
    code: str


@dataclass(frozen=True)
class City:
    name: str
    country: str
    postal_code: PostalCode

    @property
    def code(self) -> str:
        """The representative postal code (`postal_code.code`)."""
        return self.postal_code.code


def is_valid_postal_code(country: str, code: str) -> bool:
    """Whether `code` is in the normalised format of `country`."""
    pattern = POSTAL_FORMATS.get(country)
    return bool(pattern and pattern.fullmatch(code))


def parse_postal_code(
    text: str, language: str, country_hint: str | None = None
) -> PostalCode | None:
    text = bounded(text)
    if not text:
        return None
    prefixed = prefixed_postal_code(text)
    if prefixed is not None:
        return prefixed
    hint = _hint(country_hint)
    if hint is not None:
        found = find_postal_code(text, hint, hinted=True)
        if found is not None:
            return found
    city = parse_city(text, language)
    if city is not None and hint in (None, city.country):
        return find_postal_code(text, city.country, hinted=True) or city.postal_code
    return bare_postal_code(text) if hint is None else None


def bare_postal_code(text: str) -> PostalCode | None:
    """Without prefix, hint or city: Dutch "1234 AB", British "SW1A 1AA", German "33602"."""
    for country in ("NL", "GB", "DE"):
        found = find_postal_code(text, country, hinted=False)
        if found is not None:
            return found
    return None


def _hint(country_hint: object) -> str | None:
    if not isinstance(country_hint, str):
        return None
    code = country_hint.strip().upper()
    code = _HINT_ALIASES.get(code, code)
    return code if code in POSTAL_FORMATS else None


def _bounded_pattern(body: str) -> str:
    return rf"(?<![\w-])(?:{body})(?![\w-])"


@lru_cache(maxsize=1)
def _prefix_patterns() -> list[tuple[str, re.Pattern[str], re.Pattern[str]]]:
    """Per country: "D-33602" (any case) and "DE 33602" (upper case) patterns."""
    patterns = []
    for country, prefixes in _PREFIXES.items():
        alternatives = "|".join(sorted(prefixes, key=len, reverse=True))
        code = f"({_FIND[country]})"
        hyphen = re.compile(_bounded_pattern(f"(?:{alternatives})-{code}"), re.IGNORECASE)
        spaced = [p for p in prefixes if len(p) > 1]
        spaced_body = f"(?:{'|'.join(spaced)}) ?{code}" if spaced else r"(?!x)x"
        patterns.append((country, hyphen, re.compile(_bounded_pattern(spaced_body))))
    return patterns


def prefixed_postal_code(text: str) -> PostalCode | None:
    """The first code written with a country prefix ("D-33602", "CH 8001")."""
    best: tuple[int, PostalCode] | None = None
    for country, hyphen, spaced in _prefix_patterns():
        for pattern in (hyphen, spaced):
            for match in pattern.finditer(text):
                code = _normalised(country, match.group(1))
                if code and (best is None or match.start() < best[0]):
                    best = (match.start(), PostalCode(country, code))
                    break
    return best[1] if best else None


def find_postal_code(text: str, country: str, *, hinted: bool) -> PostalCode | None:
    """The first code of `country`; letters in any case only when the country is known."""
    if country not in _FIND:
        return None  # a country whose postal codes Lotse does not read (e.g. IE)
    flags = re.IGNORECASE if hinted else 0
    for match in re.finditer(_bounded_pattern(f"({_FIND[country]})"), text, flags):
        code = _normalised(country, match.group(1))
        if code:
            return PostalCode(country, code)
    return None


def _normalised(country: str, raw: str) -> str | None:
    code = raw.upper()
    if country in _SPACED:
        compact = code.replace(" ", "")
        code = compact[: _SPACED[country]] + " " + compact[_SPACED[country] :]
    elif country == "GB":
        compact = code.replace(" ", "")
        code = compact[:-3] + " " + compact[-3:]
    return code if is_valid_postal_code(country, code) else None


def parse_city(text: str, language: str = "de") -> City | None:
    """The first city of the city table named in `text`."""
    text = bounded(text)
    if not text:
        return None
    return city_table().first(token_doc(text, language))


def city_table(path: Path = CITIES_FILE) -> PhraseTable[City]:
    return _city_table(path)


@lru_cache(maxsize=4)
def _city_table(path: Path) -> PhraseTable[City]:
    rows = []
    for number, entry in enumerate(entries(path, "cities"), start=1):
        at = where(path, "cities", number, entry, "country")
        names = words_field(at, entry, "names")
        exact = words_field(at, entry, "exact_case")
        if not names and not exact:
            raise ValueError(f"{at}: needs 'names' or 'exact_case'")
        country = text_field(at, entry, "country")
        if country not in POSTAL_FORMATS:
            raise ValueError(f"{at}: 'country' must be an ISO code of {sorted(POSTAL_FORMATS)}")
        code = text_field(at, entry, "postal_code")
        if not is_valid_postal_code(country, code):
            raise ValueError(f"{at}: postal_code {code!r} is not a {country} postal code")
        city = City((names or exact)[0], country, PostalCode(country, code))
        rows.append((city, names, exact, ()))
    return PhraseTable(rows)
