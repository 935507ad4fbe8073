"""Translation catalogues (gettext .po files read with Babel) and formats per language.

A catalogue maps msgids (the English source text, with `{name}` placeholders) to the
language's text. `Translator.gettext(msgid, **params)` returns the translation with
the placeholders filled, or the msgid filled when the catalogue has no translation
(English catalogues keep msgstr empty: the source is the English text). Numbers and
dates are formatted with Babel in the language's locale (de_DE, en_GB).

Catalogues are read once per path and cached; they hold no personal data. A missing
or unreadable catalogue fails loudly (FileNotFoundError, Babel's parse error) at the
first lookup of its language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "en"
LOCALES = {"de": "de_DE", "en": "en_GB"}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def supported(language: str | None) -> str | None:
    """`language` if it is one of LANGUAGES, else None."""
    return language if language in LANGUAGES else None


def from_accept_language(header: str | None) -> str:
    """The language an Accept-Language header asks for first: "de" for de, de-AT,
    de-CH, ...; "en" otherwise (also for an empty or garbled header)."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((header or "").split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary not in LANGUAGES or quality <= 0:
            continue
        candidate = (-quality, position, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else DEFAULT_LANGUAGE


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@lru_cache(maxsize=16)
def read_catalogue(path: Path) -> dict[str, str]:
    """The catalogue at `path` as {msgid: msgstr}, without the header and without
    entries whose msgstr is empty."""
    with path.open("rb") as file:
        catalogue = read_po(file)
    return {
        str(message.id): str(message.string)
        for message in catalogue
        if message.id and isinstance(message.id, str) and message.string
    }


def fill(text: str, params: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(params[name]) if name in params else match.group(0)

    return PLACEHOLDER.sub(value, text)


@dataclass(frozen=True)
class Translator:
    """The texts and formats of one language, from the catalogue in `folder`
    (`<folder>/<language>/LC_MESSAGES/<domain>.po`)."""

    language: str
    folder: Path
    domain: str
    _messages: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, folder: Path, domain: str, language: str) -> Translator:
        language = supported(language) or DEFAULT_LANGUAGE
        path = folder / language / "LC_MESSAGES" / f"{domain}.po"
        return cls(language, folder, domain, read_catalogue(path))

    @property
    def locale(self) -> str:
        return LOCALES[self.language]

    @property
    def messages(self) -> dict[str, str]:
        return dict(self._messages)

    def gettext(self, msgid: str, **params: Any) -> str:
        return fill(self._messages.get(msgid) or msgid, params)

    __call__ = gettext

    def number(self, value: float, digits: int = 0) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, fraction: float, digits: int = 1) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "\u00a0%"
        if self.language == "en":
            pattern = pattern.replace("\u00a0%", "%")
        return format_percent(fraction, format=pattern, locale=self.locale)

    def date(self, value: datetime) -> str:
        pattern = "dd.MM.yyyy" if self.language == "de" else "yyyy-MM-dd"
        return format_date(value, format=pattern, locale=self.locale)

    def datetime(self, value: datetime) -> str:
        pattern = "dd.MM.yyyy HH:mm" if self.language == "de" else "yyyy-MM-dd HH:mm"
        return format_datetime(value, format=pattern, locale=self.locale)


def N_(msgid: str) -> str:  # noqa: N802 - gettext's name for it
    """Marks `msgid` where it is defined (a table of labels) for the catalogue test;
    it is translated where it is shown."""
    return msgid
