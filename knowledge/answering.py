"""Answering a question from the documents, or saying that they do not hold it.

`DocumentAnswerer.answer(question, language)`:
1. the question's terms (`Matcher.asked`: stop and filler words left out);
2. the index's best passages in the visitor's language for them;
3. a passage answers only if it holds what is asked (`_judge`):
   - a subject (a product, a line: `Matcher.is_subject`) must be in the passage, its
     heading or title, or elsewhere in its document (the P400's column of a table);
   - a word no document holds and visitors do not say in passing ("Lackfarbe", "ATEX",
     "revenue") means the documents cannot answer: no answer at all;
   - a property (a concept of the vocabulary) the passage lacks means it does not
     answer when it is what is asked (the noun, the word after "wie"/"how", a verb,
     or a figure asked for); named beside others it counts as lacking, and the passage
     must hold MOST_HELD words more; named only as why it asks ("wegen unserem
     Stromnetz": `knowledge.focus.side_words`) it counts as lacking;
   - a German verb typed in lower case (`Term.plain`) is how it is asked, not what;
     a compound whose last part the passage holds is not lacking ("Bestellwert",
     "Auftragswert");
   - a word visitors say in passing (the NLU examples' words outside the FAQ) that no
     document holds and that is no concept of the vocabulary is context ("unsere Halle");
   - of the other words, the passage must hold more than it lacks (a word another
     passage holds counts as lacking, one no document holds half as much in a passage
     holding MOST_HELD words or more);
   - a question asking for a figure (how many, how long, which year, how big:
     `knowledge.figures`) is answered by a passage that says one only ("wie viele
     Techniker habt ihr in Linz": the service base there says none), its words for the
     figure ("long", "year") being no words the passage must hold;
   of those, the one that holds most of what is asked and lacks least wins, then the
   engine's best, a table cell when the question names its row and column (the P400's
   weight), the whole row when it names only one of them;
4. the answer is the passage's text and its source (document, title, page).
Pure over a `PassageIndex`; no Rasa, no HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache

from knowledge.figures import FigureKind, figure_words, figures_asked, says_figures
from knowledge.focus import (
    asking_part,
    focus_words,
    property_words,
    rate_words,
    side_words,
)
from knowledge.index import Hit, PassageIndex
from knowledge.matching import Matcher
from knowledge.passages import Passage
from knowledge.terms import Term

CANDIDATES = 40
NONE = (0, 0)  # a passage that cannot answer: nothing held, nothing lacking
UNKNOWN = 0.5  # what a word no document holds counts as lacking in a passage holding
# MOST_HELD words or more (one said beside what is asked: "in our MS Teams channel")
MOST_HELD = 2  # a passage lacking a property asked for must hold this many words more
RECHECK_SECONDS = 10.0  # how soon a re-indexed document is seen by a running process


@dataclass(frozen=True)
class Source:
    document: str
    title: str
    page: int | None = None


@dataclass(frozen=True)
class Answer:
    text: str
    source: Source
    passage: Passage
    score: float
    held: frozenset[str] = frozenset()  # the passage's terms and its context's
    pinpointed: bool = False  # a table's cell whose row and column the question names


@dataclass(frozen=True)
class _Asked:
    """What a question asks: its terms, the nouns and property asked about (`focus`),
    those of a reason's clause (`side`), the kinds of figure and the rate's units."""

    terms: list[Term]
    focus: frozenset[str] = frozenset()
    side: frozenset[str] = frozenset()
    figures: list[FigureKind] = field(default_factory=list)
    rates: list[Term] = field(default_factory=list)


@dataclass(frozen=True)
class _Vocabulary:
    """The index's terms of one language as last read, and when that was checked."""

    digests: tuple[tuple[str, str], ...]
    documents: dict[str, frozenset[str]]  # per document
    everything: frozenset[str]
    checked: float

    @classmethod
    def of(cls, digests: tuple[tuple[str, str], ...], documents: dict[str, frozenset[str]],
           now: float) -> _Vocabulary:  # fmt: skip
        return cls(digests, documents, frozenset().union(*documents.values()), now)


@dataclass(frozen=True)
class _Searched:
    asked: _Asked
    hits: list[Hit]
    vocabulary: _Vocabulary
    language: str


@dataclass(frozen=True)
class DocumentAnswerer:
    index: PassageIndex
    matcher: Matcher
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    _vocabularies: dict = field(default_factory=dict, compare=False, repr=False)
    _labels: dict = field(default_factory=dict, compare=False, repr=False)

    def answer(self, question: str, language: str, sure: bool = False) -> Answer | None:
        """`sure`: only a passage that holds every word asked, and two of the question's
        specifics: its own words in the passage's text, or a product it names (what may
        outrank an FAQ topic's general answer)."""
        return self._best(self._searched(question, language), sure)

    def answers(
        self, question: str, language: str
    ) -> tuple[Callable[[], Answer | None], Callable[[], Answer | None]]:
        """`answer(sure=True)` and `answer()` of one question, each made when first
        called, from one search: a message that asks whether a topic or the documents
        answer it reads both (`knowledge.topic_fit`)."""
        searched = cache(lambda: self._searched(question, language))
        return cache(lambda: self._best(searched(), True)), cache(
            lambda: self._best(searched(), False))  # fmt: skip

    def _searched(self, question: str, language: str) -> _Searched | None:
        """What the question asks and the index's candidates for it (None: it asks only
        for subjects, nothing about them)."""
        asked = self._question(question, language)
        if not any(not self.matcher.is_subject(term) for term in asked.terms):
            return None
        vocabulary = self._vocabulary(language)
        hits = self.index.search(self.matcher.tokens(asked.terms), language, CANDIDATES)
        return _Searched(asked, hits, vocabulary, language)

    def _best(self, searched: _Searched | None, sure: bool) -> Answer | None:
        if searched is None:
            return None
        asked, hits = searched.asked, searched.hits
        documents, known = searched.vocabulary.documents, searched.vocabulary.everything
        fitting = []
        for hit in hits:
            if asked.figures and not says_figures(hit.passage.text, asked.figures):
                continue
            held = hit.terms | hit.context
            if asked.rates and not any(self.matcher.covers(t, held) for t in asked.rates):
                continue  # "pro Kilometer" asked, "pro Stunde" said
            document = documents.get(hit.passage.document, frozenset())
            covered, lacking = self._judge(hit, asked, document, known, sure)
            if covered:
                named = sum(self.matcher.covers(t, held) for t in asked.terms
                            if self.matcher.is_subject(t))  # fmt: skip
                fitting.append(((covered - lacking, named, self._rank(hit, asked.terms)), hit))
        if not fitting:
            return None
        _, best = max(fitting, key=lambda pair: (*pair[0], -pair[1].passage.position))
        p = best.passage
        pinpointed = p.kind == "cell" and self._pinpoints(p, asked.terms)
        return Answer(p.text, Source(p.document, title_in(p.title, searched.language), p.page), p,
                      best.score, best.terms | best.context, pinpointed)  # fmt: skip

    def _question(self, question: str, language: str) -> _Asked:
        part = asking_part(question)
        kinds = figures_asked(part)  # "how long": a passage saying a duration
        terms = [t for t in self.matcher.asked(part, language)
                 if t.word not in figure_words(kinds)]  # fmt: skip
        asking = f"{focus_words(part, language)} {property_words(part)}"
        return _Asked(
            terms,
            focus=frozenset(t.word for t in self.matcher.asked(asking, language)),
            side=frozenset(t.word for t in self.matcher.asked(side_words(part, language),
                                                              language)),  # fmt: skip
            figures=kinds,
            rates=self.matcher.asked(rate_words(part), language),
        )

    def known_words(self, language: str) -> frozenset[str]:
        """Every term the documents hold in `language`."""
        return self._vocabulary(language).everything

    def _vocabulary(self, language: str) -> _Vocabulary:
        """The index's terms, read again when a document changed (looked at every
        RECHECK_SECONDS at most: one query less per message)."""
        cached = self._vocabularies.get(language)
        now = self.clock()
        if cached is not None and now - cached.checked < RECHECK_SECONDS:
            return cached
        digests = tuple(sorted(self.index.digests().items()))
        if cached is None or cached.digests != digests:
            cached = _Vocabulary.of(digests, self.index.vocabulary(language), now)
        self._vocabularies[language] = replace(cached, checked=now)
        return self._vocabularies[language]

    def _judge(self, hit: Hit, asked: _Asked, document: frozenset[str], known: frozenset[str],
               sure: bool = False) -> tuple[float, float]:  # fmt: skip
        """How many of the asked words the passage holds and lacks; (0, 0) if it cannot
        answer. A property the passage lacks (a concept of the vocabulary) ends it when
        it is what is asked: the noun or the word after "wie"/"how" (`focus`), the verb
        ("kostet", "wiegt") or when a figure is asked for (`figures`); named beside
        others ("Is the safety light curtain standard?") the passage must hold
        MOST_HELD words more than it lacks such."""
        held = hit.terms | hit.context
        covered, lacking, unsaid, unknown = 0, 0.0, 0, 0
        counted: set[str] = set()  # concepts already counted: "Leute arbeiten" is one
        focus, side = asked.focus, asked.side
        for term in asked.terms:
            if self.matcher.is_subject(term):
                if not (self.matcher.covers(term, held)
                        or self.matcher.covers(term, document, fuzzy=False)):  # fmt: skip
                    return NONE
            elif self.matcher.covers(term, held):
                concepts = self.matcher.concepts_of(term)  # its own word held counts anew
                covered += not concepts or not concepts <= counted or term.word in held
                counted |= concepts
            elif term.selector:
                continue  # "the biggest": the row's every product answers which one
            elif self.matcher.concepts_of(term) and term.word not in side:
                if term.word in focus or term.plain or asked.figures:
                    return NONE  # the passage lacks what is asked for: a price, a weight...
                unsaid += 1  # a property named beside others the passage holds
            elif term.plain:
                continue  # "steckt", "hängen": how it is asked, not what
            elif self.matcher.kind_held(term, held):
                continue  # "Bestellwert" where the passage says "Auftragswert": a value
            elif self.matcher.covers(term, known, fuzzy=False) or term.word in side:
                lacking += 1
            elif term.word in focus:
                return NONE  # asked about something no document holds
            elif not self._passing(term):
                unknown += 1  # a word no document holds, said beside what is asked
        if unsaid and covered < MOST_HELD + unsaid:
            return NONE  # it lacks a property asked for, and holds too little else
        lacking += unsaid + unknown * (UNKNOWN if covered >= MOST_HELD else 1)
        if sure:  # two of the question's specifics: its own words, or a product named
            own = sum(self.matcher.covers(t, hit.terms) for t in asked.terms
                      if not self.matcher.is_subject(t))  # fmt: skip
            named = sum(self.matcher.covers(t, held) for t in asked.terms
                        if self.matcher.is_product(t))  # fmt: skip
            return (covered, 0) if lacking == 0 and own >= 1 and own + named >= 2 else NONE
        named = any(self.matcher.is_product(t) and self.matcher.covers(t, hit.terms)
                    for t in asked.terms)  # fmt: skip
        return (covered, lacking) if covered + 0.5 * named > lacking else NONE

    def _passing(self, term: Term) -> bool:
        """A word visitors say in passing, not one of the vocabulary's concepts."""
        return term.word in self.matcher.conversational and not self.matcher.concepts_of(term)

    def _rank(self, hit: Hit, asked: list[Term]) -> float:
        """The engine's score, with a cell first when the question names its row and
        column, and a row before its cells when it names only one of them."""
        p = hit.passage
        if p.kind != "cell":
            return hit.score
        return hit.score + (2.0 if self._pinpoints(p, asked) else -2.0)

    def _pinpoints(self, cell: Passage, asked: list[Term]) -> bool:
        """The question names the cell's row and its column ("die P800" and "laut")."""
        return self._names(cell.column, asked, cell.language) and self._names(
            cell.row, asked, cell.language)  # fmt: skip

    def _names(self, label: str, asked: list[Term], language: str) -> bool:
        words = self._labels.get((label, language))
        if words is None:  # a table's few labels, made into terms once per process
            words = self._labels[(label, language)] = frozenset(
                self.matcher.index_terms(label, language))
        return any(self.matcher.covers(term, words, fuzzy=False) for term in asked)


def title_in(title: str, language: str) -> str:
    """A bilingual title ("NW-Press – Datenblatt / data sheet") in one language."""
    if " / " not in title:
        return title
    left, right = title.split(" / ", 1)
    if language == "de":
        return left.strip()
    name = left.split(" – ")[0].strip()
    return f"{name} – {right.strip()}" if " – " in left else right.strip()
