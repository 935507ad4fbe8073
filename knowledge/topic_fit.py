"""Whether an FAQ topic's answer fits a question, or the question asks something more
specific that the documents must answer (or nobody can).

A topic's words are those of its title, its answer (both languages) and its training
examples (`bot/data/nlu/faq_*.yml`: how visitors ask it). The topic fits a question
when each word the question asks about is one of them (or of the same concept of the
vocabulary), a subject (a product, a line), or a word visitors say in passing that is
no concept: "Welche Lackfarbe haben die Pressen?" is classified as the presses' topic,
but "Lackfarbe" is none of its words, so the generic answer about the presses would
not answer it. Pure; built once per process from the content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from dialogue.content import Content
from dialogue.folding import fold
from dialogue.nlu_examples import NLU_DIR, nlu_examples
from knowledge.answering import Answer
from knowledge.figures import SPECIFIC, figures_asked, says_figures
from knowledge.focus import asking_part, focus_words, rate_words
from knowledge.matching import Matcher
from knowledge.terms import Term

NOT_PLACED = frozenset({"nlu_fallback", "out_of_scope"})  # sent on if the documents know it
DEEPER = "out_of_depth"  # a product question deeper than the topics: always sent on


@dataclass
class TopicFit:
    matcher: Matcher
    words: Mapping[str, frozenset[str]]  # intent -> words (and concept tokens)
    answers: Mapping[str, frozenset[str]] = field(default_factory=dict)  # of its answer only
    numbers: Mapping[str, set[str]] = field(default_factory=dict)  # the figures its answer says
    texts: Mapping[str, str] = field(default_factory=dict)  # its answer, both languages

    def _unfitting(self, asked: list[Term], intent: str) -> list[Term]:
        """The words the question asks about that the topic does not speak of."""
        own = self.words.get(intent)
        if own is None:
            return []
        return [
            term for term in asked
            if not (self.matcher.is_subject(term) or self.matcher.covers(term, own)
                    or self._passing(term) or term.selector)
        ]  # fmt: skip

    def _passing(self, term: Term) -> bool:
        return term.word in self.matcher.conversational and not self.matcher.concepts_of(term)

    def for_documents(self, question: str, language: str, intent: str,
                      known: frozenset[str],
                      answered: Callable[[], Answer | None] = lambda: None,
                      found: Callable[[], Answer | None] = lambda: None) -> bool:  # fmt: skip
        """Whether the question is the documents' to answer (or to say they cannot):
        - a topic's question asking about something its answer does not speak of that
          no topic's answer speaks of: the documents' word ("Gewicht", "Reaktionszeit")
          when their answer (`found`) holds it and the message's other words they know,
          or nobody's, when it is the noun asked about
          (`knowledge.focus`: "Welche Lackfarbe haben die Pressen?", "an ATEX version"):
          the topic's general answer would not answer it;
        - a topic's question mostly about a property (a concept of the vocabulary: a
          weight, a speed) that the topic does not speak of ("How much does the chain
          conveyor weigh?"): the documents answer it, or say that they cannot;
        - a question deeper than the topics;
        - one the classifier placed nowhere (or off-topic) that asks about something the
          documents hold ("wo stehen eure Server").
        - a topic's question the documents answer (`answered`) with all its words, one of
          them none of the topic's (`_documents_say_more`);
        - a topic's question that names a table's row and column ("the P400" and "the
          motor's power", "the roller conveyors' widths") whose cell (`found`) says a
          figure the topic's answer does not (`_cell_says_more`);
        Other words a topic does not speak of stay the topic's ("Unser Druckschalter ist
        defekt, wo bekomme ich einen neuen?": the spare parts' answer)."""
        if intent == DEEPER:
            return True
        asked = self.matcher.asked(question, language)
        if intent in NOT_PLACED:
            return any(
                not self.matcher.is_subject(term) and not self._passing(term)
                and self.matcher.covers(term, known, fuzzy=False)
                for term in asked
            )  # fmt: skip
        if self._figure_unsaid(question, intent):
            return True  # "wie oft", "wie viele Paletten pro Stunde": the topic's answer says none
        if self._names_unsaid_code(question, intent):
            return True  # "ISO 45001", "the P1600": the topic's answer names no such thing
        if self._rate_unsaid(question, language, intent):
            return True  # "pro Kilometer": the topic's answer says no rate in it
        sure = cache(answered)  # one search at most, however many rules ask
        loose = cache(found)
        focus = {t.word for t in self.matcher.asked(focus_words(question, language), language)}
        unfitting = self._unfitting(asked, intent)
        if any(self.matcher.concepts_of(t) for t in unfitting) and self._mostly_unfitting(
                asked, unfitting):  # fmt: skip
            return True  # a property the topic does not speak of: a weight, a price...
        if any(self._sends_on(t, asked, known, focus, loose) for t in unfitting):
            return True
        return self._cell_says_more(intent, loose()) or self._documents_say_more(
            asked, intent, sure)  # fmt: skip

    def _sends_on(self, term: Term, asked: list[Term], known: frozenset[str], focus: set[str],
                  found: Callable[[], Answer | None]) -> bool:  # fmt: skip
        """Whether a word the topic does not speak of sends the question on: the noun
        asked about, whether another topic's answer speaks of it ("Was kostet ein
        Retrofit?" classified as the presses' prices: the retrofit's price is what is
        asked, which neither answer says) or nobody's ("Lackfarbe"); another word of the
        documents when their answer holds it. Another topic's other words leave the
        classifier's choice standing, and so do the documents' words their answer does
        not hold ("Welche Optionen gibt es?" of the maintenance contracts)."""
        if self.matcher.covers(term, self.all_said, fuzzy=False):
            whole = Term(term.word)  # not a part's concept: a "Druckschalter" is no force
            return term.word in focus and self.matcher.covers(whole, self.all_said, fuzzy=False)
        if self.matcher.covers(term, known, fuzzy=False):
            return self._holds(found(), term, asked, known)
        return term.word in focus

    def _figure_unsaid(self, question: str, intent: str) -> bool:
        """The question asks for a specific kind of figure (how many, how long, how
        often, which year: `knowledge.figures`) that the topic's answer does not say.
        Not "how much" nor "how big": a topic's answer may answer those in general ("we
        quote after a visit", "480 employees")."""
        kinds = [k for k in figures_asked(asking_part(question)) if k.name in SPECIFIC]
        return bool(kinds) and intent in self.texts and not says_figures(self.texts[intent], kinds)

    def _rate_unsaid(self, question: str, language: str, intent: str) -> bool:
        """The question asks for a rate in a unit ("pro Kilometer", "per pallet") that
        the topic's answer does not name (nor any other it offers: "pro Standort oder
        pro Maschine")."""
        said = self.answers.get(intent)
        units = self.matcher.asked(rate_words(question), language)
        return bool(units) and said is not None and not any(
            self.matcher.covers(t, said) for t in units)  # fmt: skip

    def _names_unsaid_code(self, question: str, intent: str) -> bool:
        """The question names a model or a standard ("P1600", "ISO 45001") that is no
        product of ours and whose number the topic's answer does not say."""
        told = self.numbers.get(intent, set())
        for code in _CODES.findall(asking_part(question)):
            if fold(code) not in self.matcher.products and not _numbers(code) <= told:
                return True
        return False

    def _cell_says_more(self, intent: str, answer: Answer | None) -> bool:
        """The documents' answer is the table's cell the question names, with a figure
        the topic's answer does not say: the topic's general answer would not answer
        "Wie stark ist der Motor der P400?" (45 kW)."""
        if answer is None or not answer.pinpointed:
            return False
        return not _numbers(answer.text) <= self.numbers.get(intent, set())

    def _mostly_unfitting(self, asked: list[Term], unfitting: list[Term]) -> bool:
        """More of the question's own words are none of the topic's than are."""
        own = [t for t in asked
               if not (self.matcher.is_subject(t) or self._passing(t) or t.selector)]  # fmt: skip
        return len(unfitting) > len(own) - len(unfitting)

    def _holds(self, answer: Answer | None, term: Term, asked: list[Term],
               known: frozenset[str]) -> bool:  # fmt: skip
        """The documents' answer holds `term` and every other word of the whole message
        the documents know ("einen Servicevertrag ... Welche Optionen gibt es?" is not
        answered by the presses' options)."""
        if answer is None or not self.matcher.covers(term, answer.held):
            return False
        return all(
            self.matcher.covers(t, answer.held) for t in asked
            if not (self.matcher.is_subject(t) or self._passing(t))
            and self.matcher.covers(t, known, fuzzy=False)
        )  # fmt: skip

    def _documents_say_more(self, asked: list[Term], intent: str,
                            answered: Callable[[], Answer | None]) -> bool:  # fmt: skip
        """The documents' sure answer (every word asked, two or more of them) holds a
        word asked the topic's answer does not, or is the table cell the question names
        with a figure the topic's answer does not say ("Welche Reaktionszeit hat der
        Plus-Vertrag?": the maintenance topic's answer names Plus and a technician's
        coming, the contracts table's cell the 72 hours)."""
        said = self.answers.get(intent, frozenset())
        specific = [t for t in asked
                    if not self.matcher.is_subject(t) and not self._passing(t)]  # fmt: skip
        answer = answered()
        if answer is None or not all(self.matcher.covers(t, answer.held) for t in specific):
            return False
        unsaid = [t for t in specific if not self.matcher.covers(t, said)]
        if unsaid:
            return True
        told = self.numbers.get(intent, set())
        return answer.passage.kind == "cell" and not _numbers(answer.text) <= told

    @cached_property
    def all_said(self) -> frozenset[str]:
        """Every topic's answer's words."""
        return frozenset().union(*self.answers.values())

    @cached_property
    def all_words(self) -> frozenset[str]:
        """Every topic's words: what the FAQ speaks of at all."""
        return frozenset().union(*self.words.values())


def topic_texts(content: Content, folder: Path = NLU_DIR) -> dict[str, list[str]]:
    """Per FAQ intent, the texts that say what the topic is about."""
    texts = {topic.intent: [*topic.title.values(), *topic.answer.values()]
             for topic in content.topics.values()}  # fmt: skip
    for intent, text in nlu_examples(folder, "faq*.yml"):
        if intent in texts:
            texts[intent].append(text)
    return texts


def topic_fit(matcher: Matcher, content: Content) -> TopicFit:
    answers = {}
    for topic in content.topics.values():
        said = set()
        for text in [*topic.title.values(), *topic.answer.values()]:
            for language in ("de", "en"):
                said.update(matcher.index_terms(text, language))
        answers[topic.intent] = frozenset(said)
    words = {}
    for intent, texts in topic_texts(content).items():
        found: set[str] = set()
        for text in texts:
            for language in ("de", "en"):
                found.update(matcher.index_terms(text, language))
                found.update(matcher.tokens(matcher.asked(text, language)))
        words[intent] = frozenset(found)
    numbers = {t.intent: set().union(*(_numbers(a) for a in t.answer.values()))
               for t in content.topics.values()}  # fmt: skip
    texts = {t.intent: " ".join(t.answer.values()) for t in content.topics.values()}
    return TopicFit(matcher, words, answers, numbers, texts)


_CODES = re.compile(r"\b(?:[A-Z]{2,}[ -]?\d{2,}|[^\W\d_]+\d[^\W_]*)\b")  # ISO 45001, P1600


def _numbers(text: str) -> set[str]:
    """The figures of a text, their digits only ("1.900 EUR" and "1,900 EUR": "1900")."""
    return {re.sub(r"[.,]", "", n) for n in re.findall(r"\d[\d.,]*\d|\d", text)}
