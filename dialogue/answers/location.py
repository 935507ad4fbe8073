"""Where the visitor's company is: country and postal code, from an answer or a sentence.

Contract: `location_in(doc, answer=False)` returns `Location(country, postal_code)` or
None. It reads, in this order: a postal code with a country prefix or after "PLZ"; a
town of the curated city table (`bot/data/content/cities.yml`, which also gives a
representative postal code) or of GeoNames' towns (`dialogue.answers.places`, the country
only); a postal code beside the town in that country's format ("9020 Klagenfurt",
"Linz, 4030"); a country named ("aus Österreich", "Toledo, Ohio"). In a sentence
(`answer=False`) a town or country counts only after a word such as "in", "aus", "from"
or with a postal code beside it, never after "bei Ihnen" ("eine Vorführung bei Ihnen
in Bielefeld" is Nordwerk's town, not the visitor's), and never when negated ("nicht Graz"); when a
sentence corrects itself ("nicht Graz, wir sind in Linz") the last town counts. Never
raises; the text is not logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.lang.de.stop_words import STOP_WORDS as DE_STOP_WORDS
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS
from spacy.tokens import Doc

from dialogue.answers.country import country_table
from dialogue.answers.pipeline import fold, folded_words
from dialogue.answers.places import town_hits
from dialogue.answers.postal import (
    POSTAL_FORMATS,
    PostalCode,
    bare_postal_code,
    city_table,
    find_postal_code,
    prefixed_postal_code,
)
from dialogue.spacy_pipelines import inflected_words

PLACE_CUES = folded_words(
    "in im aus from based located sitz sitzen sitzt ansässig nahe near bei at nach ort "
    "standort stadt city town raum region nähe vo us z i"
)
_ARTICLES = folded_words("der die das dem den the")
_SECOND_PERSON = folded_words("ihnen euch eurem euren eurer eure you your yours ihrem ihrer dir")
_NEGATIONS = folded_words("nicht ned net nöd nit not no kein keine statt anstatt instead")
_THIRD_PARTY = folded_words(
    "Mutter Muttergesellschaft Konzern Konzernmutter Konzernzentrale Holding Tochter "
    "Tochterfirma Tochtergesellschaft Kunde Kunden Lieferant Lieferanten Partner Partnern "
    "Schwesterfirma parent customer customers client clients supplier suppliers subsidiary "
    "sister group"
)
"""A place of someone else's: "unsere Konzernmutter in Schweden" is not where we are."""
_CORRECTIONS = folded_words("sondern eigentlich sorry vertan korrektur actually doch meinte meant")
_POSTAL_KEYWORD = re.compile(
    r"(?:PLZ|Postleitzahl|postal ?code|post ?code|zip(?: ?code)?)\W*", re.I
)
_CODE_TOKEN = re.compile(r"\d{2,5}")
_US_ZIP = re.compile(
    r"\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|"
    r"NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\s+(\d{5})(?:-\d{4})?\b"
)
"""A US state's code before a ZIP code ("Grand Rapids, MI 49503")."""
_EVERYDAY_EXTRA = folded_words(
    "Lage Hof Halle Essen Werk Stein Berg Wald Bad Au Horn Zell Weil Mark Born Bruck Moos "
    "Linden Brake Gut Plan Most Rain Weiden Lauf Laufen Kirchen Hausen Stadt Ort Land Buch "
    "Lehen Sins Aue Leer Ende Bruch Mitte Mai Marks Street Sale Market Wells Bath Reading "
    "Wing Deal Street Rye March Hope Goes Ede Best Echt Born Neuss? "
)


@dataclass(frozen=True)
class Location:
    country: str | None
    postal_code: PostalCode | None
    town: str | None = None  # as the visitor wrote it


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """Words of everyday speech that are also town names ("Raum", "Lage", "Hof"):
    never a town on their own (the big cities among them are in the city table)."""
    words = DE_STOP_WORDS | EN_STOP_WORDS | inflected_words("de") | inflected_words("en")
    return frozenset({fold(w) for w in words} | {w for w in _EVERYDAY_EXTRA if w.isalpha()})


def _folded(doc: Doc) -> list[str]:
    return [re.sub(r"[^\w]", "", fold(token.text)) for token in doc]


def _code_countries(doc: Doc) -> list[frozenset[str]]:
    """Per token: the countries whose postal format fits a number token beside it."""
    fits: list[frozenset[str]] = []
    for i in range(len(doc)):
        near = [doc[j].text for j in (i - 1, i + 1, i + 2) if 0 <= j < len(doc)]
        fits.append(frozenset(
            country for country, pattern in POSTAL_FORMATS.items()
            for text in near if _CODE_TOKEN.fullmatch(text) and pattern.fullmatch(text)
        ))  # fmt: skip
    return fits


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    country: str
    postal: PostalCode | None  # a curated city's representative code


def _hits(doc: Doc, words: list[str]) -> list[_Hit]:
    curated = [
        _Hit(h.start, h.end, h.value.country, h.value.postal_code) for h in city_table().hits(doc)
    ]
    taken = {i for h in curated for i in range(h.start, h.end)}
    towns = [
        _Hit(t.start, t.end, t.country, None)
        for t in town_hits(words, everyday_words(), _code_countries(doc))
        if not taken & set(range(t.start, t.end))
    ]
    return sorted(curated + towns, key=lambda h: h.start)


def _cued(words: list[str], start: int) -> bool:
    """A place word right before: "in Linz", "aus der Schweiz", "out of Toledo"."""
    position = start - 1
    if position >= 0 and words[position] in _ARTICLES:
        position -= 1
    if position >= 1 and words[position - 1 : position + 1] == ["out", "of"]:
        return True
    return position >= 0 and words[position] in PLACE_CUES


def _cued_near(words: list[str], start: int, within: int = 4) -> bool:
    """A place word a few words before: the country after a town ("in Toledo, Ohio",
    "out of Grand Rapids, Michigan") or a town after a country ("in Denmark (Aarhus)")."""
    return any(_cued(words, position) for position in range(max(start - within, 0), start + 1))


def _coded(doc: Doc, hit: _Hit) -> PostalCode | None:
    """A postal code of the town's country right before or after it."""
    around = doc[max(hit.start - 3, 0) : min(hit.end + 3, len(doc))].text
    return find_postal_code(around, hit.country, hinted=True)


def _before(words: list[str], start: int, within: int, wanted: frozenset[str]) -> bool:
    return any(w in wanted for w in words[max(start - within, 0) : start])


def location_in(doc: Doc, *, answer: bool = False) -> Location | None:
    words = _folded(doc)
    postal = prefixed_postal_code(doc.text) or _after_keyword(doc.text) or _us_zip(doc.text)
    hits = [
        hit
        for hit in _hits(doc, words)
        if not _before(words, hit.start, 3, _SECOND_PERSON | _THIRD_PARTY)
        and not _before(words, hit.start, 2, _NEGATIONS)
        and (answer or _cued_near(words, hit.start, 3) or _coded(doc, hit) is not None)
    ]
    correcting = any(w in _CORRECTIONS or w in _NEGATIONS for w in words)
    hit = (hits[-1] if correcting else hits[0]) if hits else None
    if postal is None and hit is not None:
        postal = _coded(doc, hit) or hit.postal
    country = _named_country(doc, words, answer, hit.end if hit else None) or (
        hit.country if hit else None
    )
    if postal is None and country is None and answer:
        postal = bare_postal_code(doc.text)  # "95028 Hof": a German code on its own
    if postal is not None and country is None:
        country = postal.country
    if country is None and postal is None:
        return None
    if country is not None and (postal is None or postal.country != country):
        postal = find_postal_code(doc.text, country, hinted=True)  # "Grand Rapids, MI 49503"
    town = doc[hit.start : hit.end].text if hit is not None else None
    return Location(country, postal, town)


def _us_zip(text: str) -> PostalCode | None:
    match = _US_ZIP.search(text)
    return PostalCode("US", match.group(1)) if match else None


def _town_before_country(doc: Doc, words: list[str]) -> bool:
    """A country after a place word and a name the town tables lack ("out of Grand
    Rapids, Michigan"): the town is named, only not known."""
    for hit in country_table().hits(doc):
        if not _cued(words, hit.start) and _cued_near(words, hit.start):
            return any(token.text[:1].isupper() for token in doc[max(hit.start - 3, 0) : hit.start])
    return False


def _after_keyword(text: str) -> PostalCode | None:
    match = _POSTAL_KEYWORD.search(text)
    if match is None:
        return None
    following = text[match.end() : match.end() + 12]
    code = prefixed_postal_code(following) or find_postal_code(following, "DE", hinted=False)
    # Only a code right after the keyword: "PLZ 33602", not "PLZ? Wir sind 60 ...".
    return code if code is not None and following.startswith(code.code[:2]) else None


def _named_country(
    doc: Doc, words: list[str], answer: bool, town_end: int | None = None
) -> str | None:
    for hit in country_table().hits(doc):
        if _before(words, hit.start, 2, _NEGATIONS) or _before(words, hit.start, 3, _THIRD_PARTY):
            continue
        after_town = town_end is not None and 0 <= hit.start - town_end <= 1  # "Toledo, Ohio"
        if answer or after_town or _cued_near(words, hit.start):
            return hit.value
    return None
