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
PLURALS = ("en", "e", "n", "er", "s")  # German plural endings (umlauts folded away)
MAX_PARTS = 3
VERB = ("en", "n")  # a German verb's infinitive after its stem ("stell-en", "förder-n")


@dataclass(frozen=True)
class Term:
    """One word of a text: its folded lemma and, for a compound, its parts' lemmas."""

    word: str
    parts: tuple[str, ...] = ()
    selector: bool = False  # a superlative: picks among rows ("die größte", "fastest")
    plain: bool = False  # a verb's or an adjective's form, not a noun (German: `reading`)

    def forms(self) -> tuple[str, ...]:
        return (self.word, *self.parts)


@dataclass(frozen=True)
class Terms:
    """Turns text into terms with `lemmas` (language -> word -> lemma) and the words
    known in each language (`known`, folded: for splitting compounds)."""

    lemmas: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    known: Mapping[str, Collection[str]] = field(default_factory=dict)
    ignored: Collection[str] = frozenset()
    lexicon: Mapping[str, Collection[str]] = field(default_factory=dict)  # the tables' words
    nouns: Mapping[str, Collection[str]] = field(default_factory=dict)  # capitalised lemmas
    # German words cut once a process
    _compounds: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def lemma(self, word: str, language: str) -> str:
        return self.reading(word, language)[0]

    def reading(self, word: str, language: str) -> tuple[str, bool]:
        """`word`'s folded lemma, and whether it is plain: a German word typed in lower
        case that the tables know as a verb's or an adjective's form ("steckt":
        "stecken", "normaler": "normal", "hängen") and no noun's. A plain word says how
        or what is done, not what is asked about (nouns are capitalised there)."""
        for spelling in (word, *_umlauts_spelled_out(word, language)):
            found, plain = self._lemma(spelling, language)
            if found:
                return fold(found), plain and language == "de"
        return fold(word), False

    def _lemma(self, word: str, language: str) -> tuple[str | None, bool]:
        """The tables' lemma of `word` as typed, and whether it was read as a verb's or
        an adjective's form. A word typed in lower case is read so only if it is no
        noun: "stunde" is "Stunde" (not a form of "stunden"); an infinitive is the verb
        ("hängen", not a form of "Hang")."""
        table = self.lemmas.get(language, {})
        noun = fold(word) in self.nouns.get(language, ())
        if not word[:1].islower():
            return table.get(word) or (word if noun else table.get(word.lower())), False
        if self._infinitive(word, language):
            return word, True
        found = table.get(word)
        if found and found[:1].islower() and not noun:
            return found, True
        return table.get(word.capitalize()) or (word if noun else found), False

    def _infinitive(self, word: str, language: str) -> bool:
        """A German verb's infinitive, typed in lower case: its third person is in the
        tables ("hängen": "hängt", "ändern": "ändert")."""
        if language != "de" or not word[:1].islower():
            return False
        table = self.lemmas.get(language, {})
        stem = word[:-2] if word.endswith("en") else word[:-1] if word.endswith("n") else ""
        return len(stem) >= MIN_PART and table.get(f"{stem}t") == word

    def terms(self, text: str, language: str) -> list[Term]:
        """Every word of `text` but the ignored ones, in order (repeats kept);
        superlatives marked as `selector` ("die größte Presse", "the fastest one": they
        pick a row of a table; they may or may not be what is asked about it)."""
        found = []
        for raw in WORD.findall(text):
            for piece in _pieces(raw):
                lemma, plain = self.reading(piece, language)
                if len(lemma) < 2 and not lemma.isdigit() or lemma in self.ignored:
                    continue
                if fold(piece) in self.ignored:
                    continue
                found.append(Term(lemma, self._parts(lemma, language),
                                  is_superlative(piece, lemma, language), plain))  # fmt: skip
        return found

    def words(self, text: str, language: str) -> set[str]:
        """Every form (words and parts) of the terms of `text`."""
        return {form for term in self.terms(text, language) for form in term.forms()}

    def _parts(self, word: str, language: str) -> tuple[str, ...]:
        """A German compound's parts, each a known word ("lackfarbe" -> "lack", "farbe";
        "energiesparpaket" -> "energie", "spar", "paket"); nothing for a word that is
        not a compound of known words. Of the ways to cut it, the one whose shortest
        part is longest ("forder|strecke", not "ford|erstrecke"); a part may be a
        verb's stem ("stell|flache", "mess|daten") or an inflected form
        ("wartungs|auftrage")."""
        if language != "de" or len(word) < 2 * MIN_PART or not word.isalpha():
            return ()
        found = self._compounds.get(word)
        if found is None:
            found = self._cut(word, language, MAX_PARTS)
            if word in self.lexicon.get(language, ()) and found and _shortest(found) <= MIN_PART:
                found = ()  # a word of its own: "bleiben" is no "Blei" and "ben"
            self._compounds[word] = found
        return found

    def _rest(self, word: str, language: str, most: int) -> tuple[str, ...]:
        """A compound's rest as a known word, or cut into at most `most` known parts."""
        whole = self._known_form(word, language)
        return (whole,) if whole else self._cut(word, language, most) if most > 1 else ()

    def _cut(self, word: str, language: str, most: int) -> tuple[str, ...]:
        """`word` cut into two to `most` known parts; () if it cannot be."""
        best: tuple[str, ...] = ()
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head, rest = word[:cut], word[cut:]
            stem = self._head(head, language)
            if not stem:
                continue
            tail = self._rest(rest, language, most - 1)
            if tail and (not best or _shortest((stem, *tail)) > _shortest(best)):
                best = (stem, *tail)
        return best

    def _head(self, head: str, language: str) -> str:
        """A compound's first part as a known word, with or without its link
        ("wartungs": "wartung") or as a verb's stem ("stell": "stellen")."""
        for link in ("", *LINKS):
            if link and not head.endswith(link):
                continue
            stem = head[: len(head) - len(link)] if link else head
            if len(stem) < MIN_PART:
                continue
            if stem in self.known.get(language, ()):
                return self.lemma(stem, language)
            if not link and any(f"{stem}{end}" in self.known.get(language, ()) for end in VERB):
                return stem
        return ""

    def _known_form(self, word: str, language: str) -> str:
        """`word`'s lemma if it or its lemma is a known word, also when its plural's
        ending or umlaut was folded away ("auftrage": "auftrag", "pumpen": "pumpe")."""
        known = self.known.get(language, ())
        if len(word) < MIN_PART:
            return ""
        lemma = self.lemma(word, language)
        if word in known or lemma in known:
            return lemma
        for ending in PLURALS:
            stem = word[: -len(ending)]
            if word.endswith(ending) and len(stem) >= MIN_PART and stem in known:
                return self.lemma(stem, language)
        return ""


def _shortest(parts: tuple[str, ...]) -> int:
    return min(map(len, parts))


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


def from_pipelines(ignored: Collection[str], words: Collection[str] = ()) -> Terms:
    """Terms with the lemma tables and vocabularies of the built spaCy pipelines;
    `words`: more words known in every language (the vocabulary's: "Wartung",
    "Hydraulik", which the tables do not inflect), for splitting compounds."""
    from dialogue.spacy_pipelines import load_pipelines, vocabulary

    pipelines = load_pipelines()
    lemmas = {  # spaCy's tables, keyed by the strings' hashes: looked up by their `get`
        language: nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        for language, nlp in pipelines.items()
    }
    extra = frozenset(fold(w) for w in words)
    lexicon = {language: frozenset(fold(w) for w in vocabulary(language)) for language in pipelines}
    known = {language: words | extra for language, words in lexicon.items()}
    nouns = {"de": frozenset(fold(w) for w in lemmas["de"].values() if w[:1].isupper())}
    return Terms(lemmas, known, frozenset(fold(w) for w in ignored), lexicon, nouns)
