"""What a question asks and whether a passage holds it.

`Matcher.asked(question)` gives the question's terms that carry meaning (filler words
and stop words left out, Swiss and Austrian words read as standard German,
`knowledge.terms`). A passage covers a term when it holds the word, all of a compound's
parts, a word the documents use for the same concept (`knowledge.vocabulary`), or the
word with one typing error (five letters or more). `Matcher.index_terms` gives the
tokens a passage is indexed by, `Matcher.tokens` those a question searches with: words,
compound parts and concept tokens, so the engines match "schwer" with "Gewicht".

`conversational` are the words visitors use in conversation (the NLU training
examples'): a word of those that no document holds is taken for context ("unsere
Halle"), any other such word for what is asked ("Lackfarbe"). `subjects` name what a
question is about (products, lines), not what it asks about it. Pure Python.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from dialogue.dialect import standard_german
from knowledge.terms import Term, Terms
from knowledge.vocabulary import Vocabulary, WordMap, concept_token

MIN_FUZZY = 5  # a word this long may differ by one typing error
MIN_KIND = 4  # a compound's last part this long says what kind of thing it is


@dataclass(frozen=True)
class Matcher:
    terms: Terms
    vocabulary: Vocabulary
    conversational: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()  # the products' names (a subject that specifies)

    def asked(self, question: str, language: str) -> list[Term]:
        text = standard_german(question) if language == "de" else question
        seen, asked = set(), []
        for term in self.terms.terms(text, language):
            if term.word not in seen:
                seen.add(term.word)
                asked.append(term)
        return asked

    def index_terms(self, text: str, language: str) -> list[str]:
        forms = self.terms.words(text, language)
        return sorted(forms | _concepts(forms, self.vocabulary.documents))

    def tokens(self, asked: Collection[Term]) -> list[str]:
        forms = {form for term in asked for form in term.forms()}
        concepts = {c for term in asked for c in self.concepts_of(term)}
        return sorted(forms | concepts)

    def covers(self, term: Term, held: Collection[str], fuzzy: bool = True) -> bool:
        if term.word in held or (term.parts and all(p in held for p in term.parts)):
            return True
        if self._of_subject(term) and term.parts[-1] in held:
            return True  # "Maschinendaten": the data, of a machine ("Messdaten")
        if _concepts(self._forms(term), self.vocabulary.asked) & set(held):
            return True
        return fuzzy and len(term.word) >= MIN_FUZZY and any(_one_typo(term.word, w) for w in held)

    def kind_held(self, term: Term, held: Collection[str]) -> bool:
        """A compound whose last part, what kind of thing it is, is held ("Bestellwert"
        where the passage says "Auftragswert": a value, of an order)."""
        return len(term.parts) > 1 and len(term.parts[-1]) >= MIN_KIND and term.parts[-1] in held

    def concepts_of(self, term: Term) -> set[str]:
        return _concepts(self._forms(term), self.vocabulary.asked)

    def _of_subject(self, term: Term) -> bool:
        """A compound whose first part names a subject ("Maschinendaten", "Pressenöl"):
        it is about its last part, the subject being only whose it is."""
        return len(term.parts) > 1 and term.parts[0] in self.subjects

    def _forms(self, term: Term) -> tuple[str, ...]:
        """The forms a term's concepts come from: a compound's own, if it is a concept's
        word ("Energiesparpaket" is no contract for being a "Paket"), else its last
        part's, what kind of thing it is ("Maschinendaten" asks about data, not about
        machines; a "Kilometer" is no load for starting with "Kilo")."""
        if not term.parts:
            return term.forms()
        if _concepts((term.word,), self.vocabulary.asked):
            return (term.word,)
        return (term.word, term.parts[-1])

    def is_subject(self, term: Term) -> bool:
        return term.word in self.subjects or any(ch.isdigit() for ch in term.word)

    def is_product(self, term: Term) -> bool:
        return term.word in self.products or any(ch.isdigit() for ch in term.word)


def _concepts(forms: Iterable[str], words: WordMap) -> set[str]:
    return {concept_token(c) for form in forms for c in words.get(form, ())}


def _one_typo(a: str, b: str) -> bool:
    """One letter left out, added, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1 or len(b) < MIN_FUZZY:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )  # fmt: skip
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def load_matcher(vocabulary: Vocabulary | None = None) -> Matcher:
    """A matcher with the built spaCy pipelines' lemmas, spaCy's German and English stop
    words, the vocabulary file, the NLU examples' words and the products' names
    (`lotse build` must have built the pipelines)."""
    from spacy.lang.de.stop_words import STOP_WORDS as GERMAN
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH

    from knowledge.conversation import conversation_texts, product_names
    from knowledge.terms import from_pipelines
    from knowledge.vocabulary import load_vocabulary

    vocabulary = vocabulary or load_vocabulary()
    terms = from_pipelines({*GERMAN, *ENGLISH, *vocabulary.ignored},
                           {*vocabulary.documents, *vocabulary.asked})
    lemmatised = vocabulary.lemmatised(
        lambda word: {terms.lemma(word, language) for language in terms.lemmas}
    )
    spoken = {w for text in conversation_texts() for lang in terms.lemmas
              for w in terms.words(text, lang)}  # fmt: skip
    names = {w for name in product_names() for lang in terms.lemmas
             for w in terms.words(name, lang)}  # fmt: skip
    return Matcher(terms, lemmatised, frozenset(spoken), lemmatised.subjects | names,
                   frozenset(names))  # fmt: skip
