"""Countries: the ISO 3166 alpha-2 code of a country a visitor names.

Contract: `parse_country(text, language)` returns the code of the first country named
("Deutschland", "Germany", "Österreich", "Austria", "Schweiz", "Holland", "UK", "USA";
umlaut-free typings such as "Oesterreich" work too), or a bare upper-case ISO code when
that is the whole answer ("DE", "CH"; not "NO", which is more often a "no"). None when
no country is named. Never raises. Whether a country is in the service area is not
decided here (scoring data decides). Adjectives ("deutsch", "Swiss") are not read: they
name languages and products as often as the visitor's country.

`country_in(doc)` is the same on a doc that is already made.
"""

from __future__ import annotations

from functools import lru_cache

from spacy.tokens import Doc

from dialogue.answers.phrases import PhraseTable
from dialogue.answers.pipeline import bounded, token_doc

COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "DE": ("Deutschland", "Germany", "BRD", "Bundesrepublik Deutschland", "Deutschl."),
    "AT": ("Österreich", "Austria", "Oesterreich"),
    "CH": ("Schweiz", "Switzerland", "Suisse", "Svizzera", "Schwiiz"),
    "LI": ("Liechtenstein",),
    "NL": ("Niederlande", "Holland", "Netherlands", "Nederland", "the Netherlands"),
    "BE": ("Belgien", "Belgium", "België", "Belgique"),
    "LU": ("Luxemburg", "Luxembourg"),
    "DK": ("Dänemark", "Denmark", "Danmark"),
    "SE": ("Schweden", "Sweden", "Sverige"),
    "NO": ("Norwegen", "Norway", "Norge"),
    "FI": ("Finnland", "Finland", "Suomi"),
    "IS": ("Iceland",),
    "FR": ("Frankreich", "France"),
    "IT": ("Italien", "Italy", "Italia"),
    "ES": ("Spanien", "Spain", "España"),
    "PT": ("Portugal",),
    "PL": ("Polen", "Poland", "Polska"),
    "CZ": ("Tschechien", "Tschechische Republik", "Czech Republic", "Czechia"),
    "SK": ("Slowakei", "Slovakia"),
    "HU": ("Ungarn", "Hungary"),
    "SI": ("Slowenien", "Slovenia"),
    "HR": ("Kroatien", "Croatia"),
    "RO": ("Rumänien", "Romania"),
    "BG": ("Bulgarien", "Bulgaria"),
    "GR": ("Griechenland", "Greece"),
    "EE": ("Estland", "Estonia"),
    "LV": ("Lettland", "Latvia"),
    "LT": ("Litauen", "Lithuania"),
    "IE": ("Irland", "Ireland"),
    "GB": (
        "Großbritannien",
        "Vereinigtes Königreich",
        "United Kingdom",
        "Great Britain",
        "Britain",
        "England",
        "Schottland",
        "Scotland",
        "Wales",
        "Nordirland",
    ),  # fmt: skip
    "US": (
        "Vereinigte Staaten",
        "United States",
        "United States of America",
        "Amerika",
        "America",
        "Vereinigten Staaten",
        # The states a visitor names instead ("Toledo, Ohio"); not Georgia (a country).
        "Alabama",
        "Alaska",
        "Arizona",
        "Arkansas",
        "California",
        "Kalifornien",
        "Colorado",
        "Connecticut",
        "Delaware",
        "Florida",
        "Hawaii",
        "Idaho",
        "Illinois",
        "Indiana",
        "Iowa",
        "Kansas",
        "Kentucky",
        "Louisiana",
        "Maine",
        "Maryland",
        "Massachusetts",
        "Michigan",
        "Minnesota",
        "Mississippi",
        "Missouri",
        "Montana",
        "Nebraska",
        "Nevada",
        "New Hampshire",
        "New Jersey",
        "New Mexico",
        "New York State",
        "North Carolina",
        "North Dakota",
        "Ohio",
        "Oklahoma",
        "Oregon",
        "Pennsylvania",
        "Rhode Island",
        "South Carolina",
        "South Dakota",
        "Tennessee",
        "Texas",
        "Utah",
        "Vermont",
        "Virginia",
        "West Virginia",
        "Wisconsin",
        "Wyoming",
    ),  # fmt: skip
    "CA": ("Kanada", "Canada"),
    "CN": ("China", "Volksrepublik China"),
    "JP": ("Japan",),
    "IN": ("Indien", "India"),
    "UA": ("Ukraine",),
    "RS": ("Serbien", "Serbia"),
    "TR": ("Türkei", "Türkiye", "Tuerkei"),
}
EXACT_CASE_NAMES: dict[str, tuple[str, ...]] = {
    "IS": ("Island", "Ísland"),  # German for Iceland; an "island" in English
    "GB": ("UK", "U.K.", "GB"),
    "US": ("USA", "U.S.A.", "US", "U.S."),
    "TR": ("Turkey",),
    "DE": ("DE", "GER"),
    "AT": ("AUT",),
}
_BARE_CODES = {code: code for code in COUNTRY_NAMES if code != "NO"} | {"UK": "GB"}
"""Codes that are a whole answer; "NO" is more often a "no" than Norway."""


@lru_cache(maxsize=1)
def country_table() -> PhraseTable[str]:
    codes = list(COUNTRY_NAMES) + [c for c in EXACT_CASE_NAMES if c not in COUNTRY_NAMES]
    return PhraseTable(
        (code, COUNTRY_NAMES.get(code, ()), EXACT_CASE_NAMES.get(code, ()), ()) for code in codes
    )


def parse_country(text: str, language: str) -> str | None:
    text = bounded(text)
    if not text:
        return None
    bare = text.strip(" .!")
    if bare.isupper() and bare in _BARE_CODES:
        return _BARE_CODES[bare]
    return country_in(token_doc(text, language))


def country_in(doc: Doc) -> str | None:
    return country_table().first(doc)
