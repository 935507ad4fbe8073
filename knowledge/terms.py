"""The terms a text is searched and compared by: words folded (case, accents, umlauts),
lemmatised with the lookup tables of Lotse's spaCy pipelines ("Pressen" -> "presse",
"weighs" -> "weigh"), German compounds split into their known parts
("Servicevertrag" -> "service", "vertrag"), and filler words left out.

Used alike for the documents (at index time) and for the visitor's question (at query
time), so both sides meet in the same form. Pure Python over plain dicts: the lemma
tables are passed in (`Terms.from_pipelines` takes them from the built pipelines).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from dialogue.folding import fold

WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
MIN_PART = 3  # a compound's part has at least this many letters
LINKS = ("s", "es", "n", "en")  # German linking elements between a compound's parts


@dataclass(frozen=True)
class Term:
    """One word of a text: its folded lemma and, for a compound, its parts' lemmas."""

    word: str
    parts: tuple[str, ...] = ()
    selector: bool = False  # a superlative: picks among rows ("die größte", "fastest")

    def forms(self) -> tuple[str, ...]:
        return (self.word, *self.parts)


@dataclass(frozen=True)
class Terms:
    """Turns text into terms with `lemmas` (language -> word -> lemma) and the words
    known in each language (`known`, folded: for splitting compounds)."""

    lemmas: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    known: Mapping[str, Collection[str]] = field(default_factory=dict)
    ignored: Collection[str] = frozenset()

    def lemma(self, word: str, language: str) -> str:
        table = self.lemmas.get(language, {})
        for spelling in (word, *_umlauts_spelled_out(word, language)):
            for form in (spelling, spelling.lower(), spelling.capitalize()):
                found = table.get(form)
                if found:
                    return fold(found)
        return fold(word)

    def terms(self, text: str, language: str) -> list[Term]:
        """Every word of `text` but the ignored ones, in order (repeats kept);
        superlatives marked as `selector` ("die größte Presse", "the fastest one": they
        pick a row of a table; they may or may not be what is asked about it)."""
        found = []
        for raw in WORD.findall(text):
            for piece in _pieces(raw):
                lemma = self.lemma(piece, language)
                if len(lemma) < 2 and not lemma.isdigit() or lemma in self.ignored:
                    continue
                if fold(piece) in self.ignored:
                    continue
                found.append(Term(lemma, self._parts(lemma, language),
                                  is_superlative(piece, lemma, language)))  # fmt: skip
        return found

    def words(self, text: str, language: str) -> set[str]:
        """Every form (words and parts) of the terms of `text`."""
        return {form for term in self.terms(text, language) for form in term.forms()}

    def _parts(self, word: str, language: str) -> tuple[str, ...]:
        """A German compound's two parts, both known words ("lackfarbe" -> "lack",
        "farbe"); nothing for a word that is not a compound of known words."""
        known = self.known.get(language, ())
        if language != "de" or len(word) < 2 * MIN_PART + 1 or not word.isalpha():
            return ()
        for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):  # the longest tail first
            head, tail = word[:cut], word[cut:]
            tail = self.lemma(tail, language)
            for link in ("", *LINKS):
                if link and not head.endswith(link):
                    continue
                stem = head[: len(head) - len(link)] if link else head
                if len(stem) >= MIN_PART and stem in known and tail in known:
                    return (self.lemma(stem, language), tail)
        return ()


_SPELLED = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))


def _umlauts_spelled_out(word: str, language: str) -> list[str]:
    """A German word typed without umlauts in their spelling ("groesste", "faehrt",
    "gegruendet"), with its umlauts, and with "ß" for "ss" as well: the lemma tables
    know only those ("größte", "fährt", "gegründet")."""
    if language != "de" or not any(spelled in word.lower() for spelled, _ in _SPELLED):
        return []
    found = word
    for spelled, umlaut in _SPELLED:
        found = found.replace(spelled, umlaut).replace(spelled.capitalize(), umlaut.upper())
    return [found, found.replace("ss", "ß")] if "ss" in found else [found]


_SUPERLATIVE = {"de": re.compile(r"e?s?t(?:e|en|er|es|em)?"), "en": re.compile(r"e?st")}


def is_superlative(word: str, lemma: str, language: str) -> bool:
    """A superlative of its lemma: "größten" (groß), "schnellsten", "am lautesten",
    "biggest" (big), "fastest"; not the lemma itself ("Test", "best" stay)."""
    folded = fold(word)
    ending = _SUPERLATIVE.get(language)
    if ending is None or folded == lemma or len(lemma) < 3:
        return False
    stem = lemma[:-1] if language == "en" and lemma.endswith("e") else lemma  # large-st
    if not folded.startswith(stem):
        stem = stem[:-1] if language == "en" and len(stem) > 3 else stem  # big-gest
        if not folded.startswith(stem):
            return False
    rest = folded[len(stem):]
    if language == "en" and rest[:1] == stem[-1:] and rest[1:3] == "es":
        rest = rest[1:]  # the doubled consonant of "biggest"
    if language == "en" and rest.startswith("i") and lemma.endswith("y"):
        rest = rest[1:]  # "heaviest"
    return bool(rest) and ending.fullmatch(rest) is not None


_CLITICS = re.compile(
    r"^(?:[dsz][’'])?(?P<word>.+?)(?:n[’']t|[’'](?:s|n|re|ve|ll|d|m))?$", re.IGNORECASE
)  # "d'P800", "s'Gerät" (Swiss articles), "dauert's", "it's", "don't", "Nordwerk's"


def without_clitics(word: str) -> str:
    """A word without the article or pronoun run into it: "d'P800" is "P800",
    "dauert's" "dauert", "habt's" "habt", "Nordwerk's" "Nordwerk", "don't" "do"."""
    if "'" not in word and "’" not in word:
        return word
    found = _CLITICS.match(word)
    return found.group("word") if found else word


def _pieces(raw: str) -> Iterable[str]:
    """A hyphenated word's pieces ("NW-Connect": "NW", "Connect"; "Plus-Vertrag": "Plus",
    "Vertrag"), so each is matched on its own; a piece with digits keeps its neighbours
    ("S7-1500"); a word's clitics are left out ("d'P800", "dauert's": `without_clitics`)."""
    raw = without_clitics(raw)
    if "-" not in raw or any(ch.isdigit() for ch in raw):
        yield raw
        return
    yield from (p for p in raw.split("-") if p)


def from_pipelines(ignored: Collection[str]) -> Terms:
    """Terms with the lemma tables and vocabularies of the built spaCy pipelines."""
    from dialogue.spacy_pipelines import load_pipelines, vocabulary

    pipelines = load_pipelines()
    lemmas = {  # spaCy's tables, keyed by the strings' hashes: looked up by their `get`
        language: nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        for language, nlp in pipelines.items()
    }
    known = {language: frozenset(fold(w) for w in vocabulary(language)) for language in pipelines}
    return Terms(lemmas, known, frozenset(fold(w) for w in ignored))
